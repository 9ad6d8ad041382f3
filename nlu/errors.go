package nlu

import "errors"

var (
	// ErrNoTrainingData means a language has no training utterances.
	ErrNoTrainingData = errors.New("nlu: no training data")
	// ErrBadTrainingData means a training line is malformed.
	ErrBadTrainingData = errors.New("nlu: bad training data")
	// ErrLLMDisabled is returned by LLM calls when no LLM is configured.
	ErrLLMDisabled = errors.New("nlu: llm disabled")
	// ErrLLMUnavailable means the circuit breaker is open after repeated
	// LLM failures; the caller should use the classifier or article text.
	ErrLLMUnavailable = errors.New("nlu: llm unavailable (circuit open)")
	// ErrLLMInvalid means the LLM's reply failed validation.
	ErrLLMInvalid = errors.New("nlu: invalid llm reply")
	// ErrUngrounded means a phrased answer contained facts (numbers) that
	// are not in the article it had to be based on.
	ErrUngrounded = errors.New("nlu: llm answer not grounded in the article")
)
