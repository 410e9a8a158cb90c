package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// ErrSchemaVersion is wrapped by Read's error for a document whose
// schema_version this build does not read.
var ErrSchemaVersion = errors.New("unsupported results schema_version")

// FileTimeLayout is the layout of the UTC start time in result file names.
const FileTimeLayout = "20060102T150405Z"

// maxCollisions bounds the suffixes Write tries when names are taken.
const maxCollisions = 10_000

// FileName returns the name Write gives run's document before any suffix:
// <scenario>-<UTC start time>.json, the scenario name reduced to letters,
// digits, '-', '_' and '.' ("run" when there is none).
func FileName(run *Run) string {
	return fileBase(run) + ".json"
}

// fileBase is FileName without the extension.
func fileBase(run *Run) string {
	name := ""
	if run.Scenario != nil {
		name = run.Scenario.Name
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, strings.Trim(name, "."))
	if name == "" {
		name = "run"
	}
	started := run.StartedAt
	if started.IsZero() {
		started = time.Now()
	}
	return name + "-" + started.UTC().Format(FileTimeLayout)
}

// Write saves run as indented JSON in dir, creating dir if needed, and
// returns the file's path: dir/FileName(run), or, when that name is taken,
// the first free one of <scenario>-<time>-2.json, -3.json, ….
//
// Write never overwrites a file, so a baseline kept in dir is safe, and it
// is atomic: the document is written to a temporary file in dir and synced,
// then hard-linked under its final name, which fails rather than replaces
// when the name exists (so two concurrent writers cannot clobber each
// other), then the directory is synced. A reader sees the whole document or
// no file; no temporary file is left behind, on success or failure. Where
// the file system has no hard links, the name is reserved with O_EXCL and
// the temporary file renamed over the reservation.
//
// A zero SchemaVersion is written as SchemaVersion; another version is an
// error. run is not modified.
func Write(dir string, run *Run) (path string, err error) {
	if run == nil {
		return "", errors.New("write results: no run")
	}
	doc := *run
	switch doc.SchemaVersion {
	case 0:
		doc.SchemaVersion = SchemaVersion
	case SchemaVersion:
	default:
		return "", fmt.Errorf("write results: schema_version %d, but this build writes version %d", doc.SchemaVersion, SchemaVersion)
	}
	data, err := Marshal(&doc)
	if err != nil {
		return "", fmt.Errorf("write results: %w", err)
	}

	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write results: create directory: %w", err)
	}
	base := fileBase(&doc)
	tmp, err := os.CreateTemp(dir, ".tmp-"+base+"-*.json")
	if err != nil {
		return "", fmt.Errorf("write results: %w", err)
	}
	// The temporary name goes in every case: on success the document lives
	// on under its final name.
	defer func() {
		if rerr := os.Remove(tmp.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("write results: remove temporary file: %w", rerr)
		}
	}()
	if err := writeSynced(tmp, data); err != nil {
		return "", fmt.Errorf("write results: %s: %w", tmp.Name(), err)
	}
	for i := 1; i <= maxCollisions; i++ {
		name := base + ".json"
		if i > 1 {
			name = base + "-" + strconv.Itoa(i) + ".json"
		}
		path = filepath.Join(dir, name)
		err := place(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("write results: %w", err)
		}
		if err := syncDir(dir); err != nil {
			return "", fmt.Errorf("write results: %s written, but syncing its directory failed: %w", path, err)
		}
		return path, nil
	}
	return "", fmt.Errorf("write results: %s-*.json: %d names taken in %s; clean up the directory", base, maxCollisions, dir)
}

// Marshal encodes run as the document Write saves: JSON indented by two
// spaces, "<" and ">" left unescaped so thresholds read as written, ending
// in a newline.
func Marshal(run *Run) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(run); err != nil {
		return nil, fmt.Errorf("encode results: %w", err)
	}
	return buf.Bytes(), nil
}

// writeSynced writes data to f, makes it world-readable like any result,
// flushes it to stable storage and closes it.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// place gives the complete file tmp the name path without ever replacing
// an existing path; an error wrapping fs.ErrExist means the name is taken.
func place(tmp, path string) error {
	lerr := os.Link(tmp, path)
	if lerr == nil || errors.Is(lerr, fs.ErrExist) {
		return lerr
	}
	// No hard links here: reserve the name, then rename over the
	// reservation, which is ours.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("name %s: %w (hard link failed too: %v)", path, err, lerr)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("name %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("name %s: %w", path, err)
	}
	return nil
}

// syncDir flushes dir's entries, so a new name survives a crash. Systems
// and file systems that cannot sync a directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, errors.ErrUnsupported) || isInvalid(err) || runtime.GOOS == "windows" {
		return nil
	}
	return err
}

// isInvalid reports an EINVAL-like error, which some systems return for
// fsync on a directory.
func isInvalid(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "invalid argument")
}

// Read loads a document written by Write. A document of an older
// schema_version is converted to the current layout (so a baseline kept
// from an older build still compares); a version this build does not read
// is refused, wrapping ErrSchemaVersion, saying which build wrote it.
func Read(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var head struct {
		SchemaVersion *int `json:"schema_version"`
		Tool          Tool `json:"tool"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("read results %s: not a cqrsbench results document: %w", path, err)
	}
	if head.SchemaVersion == nil {
		return nil, fmt.Errorf("read results %s: not a cqrsbench results document: no schema_version", path)
	}
	if v := *head.SchemaVersion; v < oldestSchemaVersion || v > SchemaVersion {
		by := ""
		if head.Tool.Version != "" {
			by = fmt.Sprintf(" (written by cqrsbench %s)", head.Tool.Version)
		}
		return nil, fmt.Errorf("read results %s: %w %d%s: this cqrsbench reads versions %d to %d; use the cqrsbench that wrote it, or re-run the benchmark",
			path, ErrSchemaVersion, v, by, oldestSchemaVersion, SchemaVersion)
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	if *head.SchemaVersion == 1 {
		if err := readV1(data, &run); err != nil {
			return nil, fmt.Errorf("read results %s: %w", path, err)
		}
	}
	return &run, nil
}
