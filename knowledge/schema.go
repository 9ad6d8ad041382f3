package knowledge

import "github.com/hotline-ivr/hotline/store"

// migrations of the "knowledge" component. Released steps are never edited.
//
// kb_articles holds the current state of every article (soft-deleted ones
// too); kb_revisions holds every version ever saved, as JSON of the whole
// article, so history survives schema changes of kb_articles. kb_meta.generation
// is bumped in the same transaction as every write: the Bleve index stores
// the generation it reflects, and a mismatch at start means "rebuild".
var migrations = []store.Migration{
	{Name: "articles, revisions, meta", SQL: `
CREATE TABLE kb_articles (
	id         TEXT NOT NULL,
	lang       TEXT NOT NULL,
	title      TEXT NOT NULL,
	queue      TEXT NOT NULL,
	tags       TEXT NOT NULL,  -- JSON array
	questions  TEXT NOT NULL,  -- JSON array
	spoken     TEXT NOT NULL,
	body       TEXT NOT NULL,
	status     TEXT NOT NULL,
	version    INTEGER NOT NULL,
	updated_by TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	created_at TEXT NOT NULL,
	deleted    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (id, lang)
);
CREATE TABLE kb_revisions (
	id      TEXT NOT NULL,
	lang    TEXT NOT NULL,
	version INTEGER NOT NULL,
	action  TEXT NOT NULL,
	actor   TEXT NOT NULL,
	at      TEXT NOT NULL,
	article TEXT NOT NULL,     -- JSON of the Article as of this version
	PRIMARY KEY (id, lang, version)
);
CREATE TABLE kb_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO kb_meta (key, value) VALUES ('generation', '0');
`},
}
