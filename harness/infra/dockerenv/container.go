package dockerenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Readiness polling.
const (
	// pollInterval is the pause between readiness attempts.
	pollInterval = 250 * time.Millisecond
	// attemptTimeout bounds one readiness attempt.
	attemptTimeout = 5 * time.Second
	// logTailLines is how many container log lines an error quotes.
	logTailLines = 30
	// logTimeout bounds fetching those lines.
	logTimeout = 5 * time.Second
)

// checkPublished verifies that Docker published containerPort on the host
// port that was asked for: clients are given that port, and Kafka advertises
// it.
func checkPublished(ctx context.Context, c testcontainers.Container, containerPort string, hostPort int) error {
	got, err := c.MappedPort(ctx, containerPort)
	if err != nil {
		return fmt.Errorf("look up the host port of %s: %w", containerPort, err)
	}
	if int(got.Num()) != hostPort {
		return fmt.Errorf("container port %s is published on host port %d, not on %d as requested; "+
			"this container engine does not honour fixed port bindings", containerPort, got.Num(), hostPort)
	}
	return nil
}

// published finishes a function that runs a container: the container as
// the interface, nil when none was created (a nil pointer must not become
// a non-nil interface), and, once it runs, checked for the host port it
// was given.
func published[T any, P interface {
	*T
	testcontainers.Container
}](ctx context.Context, c P, err error, containerPort string, hostPort int) (testcontainers.Container, error) {
	if c == nil {
		return nil, err
	}
	if err == nil {
		err = checkPublished(ctx, c, containerPort, hostPort)
	}
	return c, err
}

// awaitReady calls probe until it succeeds, the container exits, or
// ReadyTimeout passes. what names the service in errors; errors after a
// timeout or an exit quote the container's last log lines.
func awaitReady(parent context.Context, c testcontainers.Container, what string, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(parent, ReadyTimeout)
	defer cancel()
	for {
		actx, acancel := context.WithTimeout(ctx, attemptTimeout)
		err := probe(actx)
		acancel()
		if err == nil {
			return nil
		}
		if perm := (errPermanent{}); errors.As(err, &perm) {
			return fmt.Errorf("%s: %w", what, perm.err)
		}
		if exitErr := exited(ctx, c); exitErr != nil {
			return fmt.Errorf("%s: %w (last attempt: %v)", what, exitErr, err)
		}
		select {
		case <-ctx.Done():
			if perr := parent.Err(); perr != nil {
				return fmt.Errorf("%s: %w", what, perr)
			}
			return fmt.Errorf("%s did not answer within %s (last attempt: %w); container %s log:\n%s",
				what, ReadyTimeout, err, shortID(c.GetContainerID()), logTail(ctx, c))
		case <-time.After(pollInterval):
		}
	}
}

// errExited says that a container stopped while it was awaited.
var errExited = errors.New("container exited")

// exited returns an error wrapping errExited, with the container's last log
// lines, when c is no longer running; nil when it runs or its state cannot
// be read (the caller's own timeout covers that).
func exited(ctx context.Context, c testcontainers.Container) error {
	st, err := c.State(ctx)
	if err != nil || st == nil || st.Running || st.Restarting {
		return nil
	}
	return fmt.Errorf("%w (status %s, exit code %d%s); container %s log:\n%s",
		errExited, st.Status, st.ExitCode, oomNote(st.OOMKilled), shortID(c.GetContainerID()), logTail(ctx, c))
}

func oomNote(oom bool) string {
	if oom {
		return ", killed for lack of memory: give Docker more memory"
	}
	return ""
}

// logTail returns the last logTailLines lines of the container's output,
// indented, or a note saying why there are none.
func logTail(ctx context.Context, c testcontainers.Container) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logTimeout)
	defer cancel()
	rc, err := c.Logs(ctx)
	if err != nil {
		return "  (log unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, "  "+sc.Text())
		if len(lines) > logTailLines {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return "  (empty)"
	}
	return strings.Join(lines, "\n")
}

// Containers returns the IDs, sorted, of the containers on the engine,
// running or not, that this package started in this process and has not
// removed (yet). Others' are left out: other processes may start and remove
// theirs meanwhile.
func Containers(ctx context.Context) ([]string, error) {
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return nil, fmt.Errorf("connect to Docker: %w", err)
	}
	defer p.Close()
	res, err := p.Client().ContainerList(ctx, client.ContainerListOptions{
		All: true, Filters: client.Filters{}.Add("label", LabelRole).Add("label", LabelOwner+"="+owner()),
	})
	if err != nil {
		return nil, fmt.Errorf("list containers labelled %s=%s: %w", LabelOwner, owner(), err)
	}
	ids := make([]string, 0, len(res.Items))
	for _, c := range res.Items {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids, nil
}
