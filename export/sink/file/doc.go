// Package file is the JSON-lines file export sink: one document per line,
// rotation by size (path → path.1 → … → path.N), and an fsync policy of
// always, batch or never. Its settings are the sink's file: section
// (Config, SinkType).
package file
