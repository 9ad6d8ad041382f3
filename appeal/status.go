package appeal

// Status is the stage of an appeal.
type Status string

// Statuses, in the order an appeal normally passes them.
const (
	Accepted      Status = "accepted"       // Принято
	InProgress    Status = "in_progress"    // В обработке
	UnderApproval Status = "under_approval" // На согласовании
	Done          Status = "done"           // Выполнено
	Rejected      Status = "rejected"       // Отклонено
)

// Statuses lists every status.
var Statuses = []Status{Accepted, InProgress, UnderApproval, Done, Rejected}

// transitions is the status machine: from → allowed targets.
var transitions = map[Status][]Status{
	Accepted:      {InProgress, Rejected},
	InProgress:    {UnderApproval, Done, Rejected},
	UnderApproval: {InProgress, Done, Rejected}, // in_progress: returned for rework
	Done:          nil,
	Rejected:      nil,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Final reports whether no change is allowed from s.
func (s Status) Final() bool { return s == Done || s == Rejected }

// CanTransition reports whether an appeal may go from one status to another.
func CanTransition(from, to Status) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// Next lists the statuses reachable from s.
func (s Status) Next() []Status { return append([]Status(nil), transitions[s]...) }

// Label is the status name shown and spoken to callers in lang ("ru" or "en").
func (s Status) Label(lang string) string {
	l, ok := labels[s]
	if !ok {
		return string(s)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// Meaning explains the status to a caller in lang, for the bot to say.
func (s Status) Meaning(lang string) string {
	m, ok := meanings[s]
	if !ok {
		return ""
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

var labels = map[Status][2]string{
	Accepted:      {"Принято", "Accepted"},
	InProgress:    {"В обработке", "In progress"},
	UnderApproval: {"На согласовании", "Under approval"},
	Done:          {"Выполнено", "Done"},
	Rejected:      {"Отклонено", "Rejected"},
}

var meanings = map[Status][2]string{
	Accepted: {"Обращение зарегистрировано, работа по нему ещё не началась.",
		"Your appeal is registered; work on it has not started yet."},
	InProgress: {"Специалисты изучают вопрос и собирают необходимые документы.",
		"Specialists are looking into it and collecting the documents needed."},
	UnderApproval: {"Решение согласовывается с профильными органами.",
		"The decision is being agreed with the responsible authorities."},
	Done: {"Обращение выполнено, результат передан вам.",
		"Your appeal is done and the result has been sent to you."},
	Rejected: {"Обращение отклонено.", "Your appeal was rejected."},
}
