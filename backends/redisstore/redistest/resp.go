package redistest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// The harness's own waits speak RESP2 over a fresh connection per command
// instead of using go-redis: a go-redis pool that saw dial errors answers with
// the last error until a background redial (about once a second) succeeds,
// and it retries dials with backoff — both would blur "is it up yet" by up to
// a second. A fresh dial on loopback costs microseconds.

const probeTimeout = time.Second

// respError is an error reply (-ERR …) from the server.
type respError string

func (e respError) Error() string { return string(e) }

// do sends one command on a fresh connection and returns the reply: a string
// (simple or bulk), nil (null bulk or array), an int64, or a []any. An error
// reply is returned as a respError.
func do(ctx context.Context, addr string, args ...string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled ctx (the process exited, the test gave up) ends the read too.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return nil, err
	}
	return readReply(bufio.NewReader(conn))
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return nil, errors.New("empty RESP line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, respError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("bad bulk length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, fmt.Errorf("bad array length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		elems := make([]any, n)
		for i := range elems {
			if elems[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return elems, nil
	default:
		return nil, fmt.Errorf("unexpected RESP type %q", line[0])
	}
}

// doString runs a command whose reply is a string (INFO, CLUSTER INFO…).
func doString(ctx context.Context, addr string, args ...string) (string, error) {
	reply, err := do(ctx, addr, args...)
	if err != nil {
		return "", err
	}
	s, ok := reply.(string)
	if !ok {
		return "", fmt.Errorf("%s: unexpected reply %v", args[0], reply)
	}
	return s, nil
}

// doMaps runs a command that answers with a list of flat key/value arrays
// (SENTINEL replicas, SENTINEL sentinels).
func doMaps(ctx context.Context, addr string, args ...string) ([]map[string]string, error) {
	reply, err := do(ctx, addr, args...)
	if err != nil {
		return nil, err
	}
	list, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: unexpected reply %v", strings.Join(args, " "), reply)
	}
	maps := make([]map[string]string, 0, len(list))
	for _, e := range list {
		m, err := flatMap(e)
		if err != nil {
			return nil, err
		}
		maps = append(maps, m)
	}
	return maps, nil
}

// doMap runs a command that answers with one flat key/value array
// (SENTINEL master).
func doMap(ctx context.Context, addr string, args ...string) (map[string]string, error) {
	reply, err := do(ctx, addr, args...)
	if err != nil {
		return nil, err
	}
	return flatMap(reply)
}

func flatMap(v any) (map[string]string, error) {
	kv, ok := v.([]any)
	if !ok || len(kv)%2 != 0 {
		return nil, fmt.Errorf("not a key/value array: %v", v)
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
	}
	return m, nil
}

// infoField returns a field of an INFO-style reply ("name:value" lines).
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), name+":"); ok {
			return v
		}
	}
	return ""
}

// infoReplicas returns the fields of the replica lines of an INFO replication reply
// ("slave0:ip=127.0.0.1,port=6380,state=online,offset=42,lag=0", "slave1:…"), in order.
func infoReplicas(info string) []map[string]string {
	var replicas []map[string]string
	for i := 0; ; i++ {
		line := infoField(info, "slave"+strconv.Itoa(i))
		if line == "" {
			return replicas
		}
		fields := map[string]string{}
		for _, kv := range strings.Split(line, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				fields[k] = v
			}
		}
		replicas = append(replicas, fields)
	}
}
