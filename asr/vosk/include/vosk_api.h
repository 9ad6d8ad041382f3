/*
 * Hotline's declarations of the libvosk C API, limited to what the Go
 * binding github.com/alphacep/vosk-api/go v0.3.45 calls. The binding ships
 * no header and libvosk comes prebuilt (npm package vosk@0.3.39), so the
 * project declares the prototypes itself; every symbol below is exported by
 * libvosk 0.3.39. Written for Hotline from the binding's calls.
 */
#ifndef HOTLINE_VOSK_API_H
#define HOTLINE_VOSK_API_H

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles. */
typedef struct VoskModel VoskModel;
typedef struct VoskSpkModel VoskSpkModel;
typedef struct VoskRecognizer VoskRecognizer;

/* Models: NULL when the folder cannot be loaded. */
VoskModel *vosk_model_new(const char *model_path);
void vosk_model_free(VoskModel *model);
int vosk_model_find_word(VoskModel *model, const char *word);

VoskSpkModel *vosk_spk_model_new(const char *model_path);
void vosk_spk_model_free(VoskSpkModel *model);

/* Recognizers: NULL on failure. */
VoskRecognizer *vosk_recognizer_new(VoskModel *model, float sample_rate);
VoskRecognizer *vosk_recognizer_new_spk(VoskModel *model, float sample_rate, VoskSpkModel *spk_model);
VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model, float sample_rate, const char *grammar);
void vosk_recognizer_set_spk_model(VoskRecognizer *recognizer, VoskSpkModel *spk_model);
void vosk_recognizer_set_max_alternatives(VoskRecognizer *recognizer, int max_alternatives);
void vosk_recognizer_set_words(VoskRecognizer *recognizer, int words);
void vosk_recognizer_set_partial_words(VoskRecognizer *recognizer, int partial_words);

/* Returns 1 when silence ended an utterance (read it with _result), 0 to
 * continue, -1 on error. data is 16-bit little-endian mono PCM. */
int vosk_recognizer_accept_waveform(VoskRecognizer *recognizer, const char *data, int length);

/* JSON strings owned by the recognizer, valid until its next call. */
const char *vosk_recognizer_result(VoskRecognizer *recognizer);
const char *vosk_recognizer_partial_result(VoskRecognizer *recognizer);
const char *vosk_recognizer_final_result(VoskRecognizer *recognizer);
void vosk_recognizer_reset(VoskRecognizer *recognizer);
void vosk_recognizer_free(VoskRecognizer *recognizer);

/* Kaldi log verbosity: negative quiet, 0 default, positive more. */
void vosk_set_log_level(int log_level);

void vosk_gpu_init(void);
void vosk_gpu_thread_init(void);

#ifdef __cplusplus
}
#endif

#endif /* HOTLINE_VOSK_API_H */
