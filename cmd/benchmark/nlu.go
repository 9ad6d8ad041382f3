package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hotline-ivr/hotline/nlu"
)

// nluUtterances are typical first turns, commands and numbers, in both
// languages (the project's own sentences).
var nluUtterances = []string{
	"ну э соедините меня с оператором по пенсиям",
	"хочу узнать статус заявления номер сорок два ноль ноль семнадцать шестьдесят",
	"не могу войти в личный кабинет пишет ошибку куда звонить",
	"сколько стоит позвонить из турции",
	"во сколько в воскресенье работают операторы",
	"перезвоните мне на восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь",
	"да",
	"нет спасибо до свидания",
	"can you call me back on eight nine one six five five five two two three three",
	"what are the operator hours on saturday",
	"my account got locked how do i unlock it",
	"i want to complain about the service",
	"yes",
	"do you speak russian",
}

// benchNLU writes the "Understanding" section: training time at start,
// parse latency with the built-in article matching alone and with the
// knowledge base's search blended in, and the start-up of `hotline ask`
// (knowledge base and parser built in-process, first answer given).
func benchNLU(ctx context.Context, w io.Writer) error {
	fmt.Fprintln(w, "## Understanding")
	fmt.Fprintln(w)

	arts, err := nlu.EmbeddedArticles()
	if err != nil {
		return err
	}
	var trains []time.Duration
	var plain *nlu.Parser
	for range 3 {
		if plain, err = nlu.New(nlu.WithArticles(arts)); err != nil {
			return err
		}
		trains = append(trains, plain.TrainTime())
	}

	start := time.Now()
	emb, err := nlu.OpenEmbedded(ctx, nil)
	if err != nil {
		return err
	}
	defer emb.Close()
	if _, err := emb.Parse(ctx, "какой номер горячей линии", nlu.Hint{}); err != nil {
		return err
	}
	startup := time.Since(start)

	measure := func(p *nlu.Parser) ([]time.Duration, error) {
		var ds []time.Duration
		for range 40 {
			for _, u := range nluUtterances {
				t0 := time.Now()
				if _, err := p.Parse(ctx, u, nlu.Hint{}); err != nil {
					return nil, err
				}
				ds = append(ds, time.Since(t0))
			}
		}
		slices.Sort(ds)
		return ds, nil
	}
	alone, err := measure(plain)
	if err != nil {
		return err
	}
	blended, err := measure(emb.Parser)
	if err != nil {
		return err
	}
	slices.Sort(trains)
	fmt.Fprintf(w, "Classifier training at start (ru + en, %d articles' questions included): median %v of 3.\n\n", len(arts), trains[1].Round(time.Millisecond))
	fmt.Fprintf(w, "`hotline ask` start-up (in-memory knowledge base, search index, training, first answer): %v.\n\n", startup.Round(time.Millisecond))
	fmt.Fprintln(w, "| parse latency per utterance | p50 | p99 |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| classifier + built-in article matching | %v | %v |\n", nluQuantile(alone, 50), nluQuantile(alone, 99))
	fmt.Fprintf(w, "| … + knowledge base search (Bleve) | %v | %v |\n", nluQuantile(blended, 50), nluQuantile(blended, 99))
	fmt.Fprintf(w, "\n%d utterances × 40 rounds each; commands skip the search, questions use it.\n\n", len(nluUtterances))
	return nil
}

func nluQuantile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, len(sorted)*p/100)
	return sorted[i].Round(time.Microsecond)
}
