// Package nlu finds what a caller wants: language, intent, topic queue and
// slots (appeal number, phone, SNILS, dates) from recognised or typed text.
package nlu
