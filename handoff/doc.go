// Package handoff routes a conversation the bot should not finish to a
// human queue, with its transcript, intent, slots and appeal.
package handoff
