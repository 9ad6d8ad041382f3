package knowledge

import (
	"embed"
	"io/fs"
	"path"
	"slices"
	"sort"
)

// content holds the articles shipped with the binary. Only the per-language
// folders are embedded: content/CONTRADICTIONS.md documents the sources and
// is not an article.
//
//go:embed content/ru/*.md content/en/*.md
var content embed.FS

// Content returns the embedded articles as a file system with paths
// "content/<lang>/<id>.md".
func Content() fs.FS { return content }

// articleFiles reads every "<lang>/<id>.md" file found anywhere in fsys,
// keyed by its path in fsys, so seeding accepts both the embedded tree and
// a test's flat map.
func articleFiles(fsys fs.FS) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isArticlePath(p) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files[p] = data
		return nil
	})
	return files, err
}

// isArticlePath reports whether p looks like ".../<lang>/<name>.md".
func isArticlePath(p string) bool {
	return path.Ext(p) == ".md" && slices.Contains(Languages, path.Base(path.Dir(p)))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
