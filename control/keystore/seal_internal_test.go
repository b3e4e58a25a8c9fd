package keystore

import (
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"
)

// statInfo is a FileInfo with a mode and a group, as os.Stat gives them.
type statInfo struct {
	mode fs.FileMode
	gid  uint32
}

func (s statInfo) Name() string       { return "seal.key" }
func (s statInfo) Size() int64        { return SealKeySize }
func (s statInfo) Mode() fs.FileMode  { return s.mode }
func (s statInfo) ModTime() time.Time { return time.Time{} }
func (s statInfo) IsDir() bool        { return false }
func (s statInfo) Sys() any           { return &syscall.Stat_t{Gid: s.gid} }

func TestPrivateModeAllowsGroupReadOnlyForOwnGroup(t *testing.T) {
	own := uint32(os.Getegid())
	other := own + 54321
	for _, tc := range []struct {
		name string
		info statInfo
		want bool
	}{
		{"0600", statInfo{0o600, other}, true},
		{"0440 own group", statInfo{0o440, own}, true},
		{"0640 another group", statInfo{0o640, other}, false},
		{"0604", statInfo{0o604, own}, false},
		{"0620 own group", statInfo{0o620, own}, false},
	} {
		if got := privateMode(tc.info); got != tc.want {
			t.Errorf("%s: privateMode = %v, want %v", tc.name, got, tc.want)
		}
	}
}
