package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProfileEnvGivesEachDaemonItsOwnDir(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"no profiles asked", []string{"A=1"}, []string{"A=1"}},
		{"empty dir is off", []string{"TOLLGATE_PROFILE_DIR="}, []string{"TOLLGATE_PROFILE_DIR="}},
		{"agent", []string{"A=1", "TOLLGATE_PROFILE_DIR=/p"}, []string{"A=1", "TOLLGATE_PROFILE_DIR=/p/agent-strict"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]string(nil), tc.env...)
			require.Equal(t, tc.want, profileEnv(in, "agent strict"))
			require.Equal(t, tc.env, in, "the caller's env is not changed")
		})
	}
}
