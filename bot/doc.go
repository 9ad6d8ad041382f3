// Package bot runs one conversation per caller, whatever the channel: it
// takes speech or text turns, asks nlu what the caller wants, answers from
// knowledge, files appeals and hands over to a human through handoff.
package bot
