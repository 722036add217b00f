package redistest

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadReply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    any
		wantErr string
	}{
		{name: "simple string", in: "+OK\r\n", want: "OK"},
		{name: "integer", in: ":-42\r\n", want: int64(-42)},
		{name: "bulk string", in: "$5\r\nhello\r\n", want: "hello"},
		{name: "bulk string holding CRLF", in: "$4\r\na\r\nb\r\n", want: "a\r\nb"},
		{name: "null bulk", in: "$-1\r\n", want: nil},
		{name: "null array", in: "*-1\r\n", want: nil},
		{name: "nested array", in: "*2\r\n:1\r\n*1\r\n+x\r\n", want: []any{int64(1), []any{"x"}}},
		{name: "error reply", in: "-ERR unknown command\r\n", wantErr: "ERR unknown command"},
		{name: "empty line", in: "\r\n", wantErr: "empty RESP line"},
		{name: "bad bulk length", in: "$x\r\n", wantErr: `bad bulk length "x"`},
		{name: "bad array length", in: "*x\r\n", wantErr: `bad array length "x"`},
		{name: "unknown type", in: "!3\r\n", wantErr: `unexpected RESP type '!'`},
		{name: "bad integer", in: ":1.5\r\n", wantErr: `invalid syntax`},
		{name: "truncated bulk", in: "$5\r\nhel", wantErr: "unexpected EOF"},
		{name: "truncated array", in: "*2\r\n:1\r\n", wantErr: "EOF"},
		{name: "no line end", in: "+OK", wantErr: "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestErrorReplyIsRespError(t *testing.T) {
	t.Parallel()
	_, err := readReply(bufio.NewReader(strings.NewReader("-WRONGTYPE bad\r\n")))
	var re respError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "WRONGTYPE bad", re.Error())
}

func TestFlatMap(t *testing.T) {
	t.Parallel()
	m, err := flatMap([]any{"name", "mymaster", "port", int64(6379)})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"name": "mymaster", "port": "6379"}, m)

	_, err = flatMap([]any{"odd"})
	require.ErrorContains(t, err, "not a key/value array")
	_, err = flatMap("PONG")
	require.ErrorContains(t, err, "not a key/value array: PONG")
}

func TestInfoField(t *testing.T) {
	t.Parallel()
	info := "# Server\r\nredis_version:7.0.15\r\nprocess_id:123\r\n"
	assert.Equal(t, "123", infoField(info, "process_id"))
	assert.Equal(t, "7.0.15", infoField(info, "redis_version"))
	assert.Empty(t, infoField(info, "process"), "a prefix of a name is not the name")
	assert.Empty(t, infoField(info, "role"))
}

// TestCommandsAgainstServer checks the harness's RESP helpers against a real
// redis-server: each rejects a reply of the wrong shape with the command named,
// and passes an error reply on.
func TestCommandsAgainstServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t)

	info, err := doString(ctx, s.Addr(), "INFO", "server")
	require.NoError(t, err)
	assert.NotEmpty(t, infoField(info, "redis_version"))

	_, err = doString(ctx, s.Addr(), "DBSIZE")
	require.EqualError(t, err, "DBSIZE: unexpected reply 0")

	_, err = doMaps(ctx, s.Addr(), "CONFIG", "GET", "maxmemory")
	require.ErrorContains(t, err, "not a key/value array: maxmemory", "a flat array is not a list of maps")
	_, err = doMaps(ctx, s.Addr(), "PING")
	require.EqualError(t, err, "PING: unexpected reply PONG")

	m, err := doMap(ctx, s.Addr(), "CONFIG", "GET", "maxmemory")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"maxmemory": "0"}, m)

	_, err = do(ctx, s.Addr(), "NO-SUCH-COMMAND")
	var re respError
	require.ErrorAs(t, err, &re)
	assert.Contains(t, re.Error(), "unknown command")
	_, err = doMap(ctx, s.Addr(), "NO-SUCH-COMMAND")
	require.ErrorAs(t, err, &re)
	_, err = doMaps(ctx, s.Addr(), "NO-SUCH-COMMAND")
	require.ErrorAs(t, err, &re)
	_, err = doString(ctx, s.Addr(), "NO-SUCH-COMMAND")
	require.ErrorAs(t, err, &re)

	s.Kill()
	_, err = do(ctx, s.Addr(), "PING")
	require.ErrorContains(t, err, "connection refused", "a dead server refuses the dial")
}
