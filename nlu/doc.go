// Package nlu finds what a caller wants: language, intent, topic queue and
// slots (appeal number, phone, SNILS, INN, passport, date, target language)
// from recognised or typed text.
//
// The default path needs no network: text is normalised for speech
// (nlu/textnorm: number words to digits, fillers, repeats), two multinomial
// logistic regressions per language (intent, queue) over hashed stemmed
// words, bigrams, character n-grams and topic cues are trained at start
// from data/train_*.tsv and the knowledge base's example questions, and a
// TF-IDF article matcher (blended with the knowledge base's own search when
// one is given) picks the FAQ answer. Parse takes tens of microseconds.
//
// An optional LLM (any OpenAI-compatible endpoint) relabels utterances the
// classifier is unsure of and can phrase answers strictly from the article;
// it is time-bounded, circuit-broken and off by default.
//
// FirstReply gives the bot's first-turn line for a Result; Prompt gives the
// other lines of the prompt table.
package nlu
