package pgwire

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// The two directions' kinds are distinct types, and a Reader returns its
// side's: comparing a server frame's type with a client constant does not
// compile ('S' is Sync from a client, ParameterStatus from a server).
func TestMessageKindsTypedByDirection(t *testing.T) {
	t.Parallel()
	client := reflect.TypeOf(NewClientReader(nil, 0).Next).Out(0)
	server := reflect.TypeOf(NewServerReader(nil, 0).Next).Out(0)
	require.Equal(t, reflect.TypeOf(ClientSync), client)
	require.Equal(t, reflect.TypeOf(ServerParameterStatus), server)
	require.NotEqual(t, client, server)
	require.NotEqual(t, reflect.TypeOf(byte(0)), client, "not an alias of byte")
	require.NotEqual(t, reflect.TypeOf(byte(0)), server, "not an alias of byte")
	require.EqualValues(t, ClientSync, ServerParameterStatus, "the same byte on the wire")
}
