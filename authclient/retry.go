package authclient

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/communicator/communicator/telegramauth"
)

// RetryError is returned when every attempt of a call failed transiently
// (MaxRetries+1 attempts). errors.As finds a *telegramauth.Error with code
// UNAVAILABLE, and the last attempt's cause (context.DeadlineExceeded for a
// per-call timeout, the transport's error, ...).
type RetryError struct {
	Transport string // binding or http
	Attempts  int
	Last      error // the last attempt's error, always holding an UNAVAILABLE *telegramauth.Error
}

func (e *RetryError) Error() string {
	return "authclient: auth-telegram over " + e.Transport + " failed " + strconv.Itoa(e.Attempts) + " attempts: " + e.Last.Error()
}

func (e *RetryError) Unwrap() error { return e.Last }

// causeError is a contract error with its cause: errors.As finds both.
type causeError struct {
	err   *telegramauth.Error
	cause error
}

func (e *causeError) Error() string   { return e.err.Error() + ": " + e.cause.Error() }
func (e *causeError) Unwrap() []error { return []error{e.err, e.cause} }

// transient reports whether a failed attempt may succeed if retried: the
// contract says UNAVAILABLE (both transports report network and binding
// failures so), the error is not the contract's at all (the transport itself
// failed), or an attempt's deadline passed.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var e *telegramauth.Error
	if errors.As(err, &e) {
		return e.Code.Transient()
	}
	return true
}

// do runs op, each attempt bounded by the per-call timeout, and retries it
// after transient failures, sleeping with exponential backoff in between.
//
// The caller's own ctx ending stops everything at once (ctx.Err() is
// returned), whereas an attempt's deadline passing counts as transient.
func (c *Client) do(ctx context.Context, op func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			c.ctr.canceled.Add(1)
			return err
		}
		c.ctr.calls.Add(1)
		actx, cancel := ctx, context.CancelFunc(nil)
		if c.callTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, c.callTimeout)
		}
		err := op(actx)
		// The attempt's own deadline passed, and the transport did not
		// answer with a permanent code just in time.
		timedOut := err != nil && actx.Err() == context.DeadlineExceeded && transient(err)
		if cancel != nil {
			cancel()
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			c.ctr.canceled.Add(1)
			return ctx.Err()
		}
		if timedOut {
			c.ctr.timeouts.Add(1)
			err = &causeError{
				err:   telegramauth.NewError(telegramauth.CodeUnavailable, "auth-telegram did not answer within "+c.callTimeout.String()),
				cause: err,
			}
		} else if !transient(err) {
			c.ctr.failures.Add(1)
			return err
		}
		if attempt >= c.maxRetries {
			c.ctr.failures.Add(1)
			c.ctr.gaveUp.Add(1)
			if telegramauth.CodeOf(err) != telegramauth.CodeUnavailable {
				err = &causeError{err: telegramauth.NewError(telegramauth.CodeUnavailable, "auth-telegram is unreachable"), cause: err}
			}
			return &RetryError{Transport: c.transport, Attempts: attempt + 1, Last: err}
		}
		c.ctr.retries.Add(1)
		if err := c.sleep(ctx, c.backoff(attempt)); err != nil || ctx.Err() != nil {
			c.ctr.canceled.Add(1)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}

// backoff is the delay before retry number retry+1: exponential with equal
// jitter. The ceiling is RetryDelay·2^retry, capped at MaxBackoff, and the
// delay is drawn uniformly from [ceiling/2, ceiling). Equal rather than full
// jitter keeps at least half the ceiling between attempts, so an
// auth-telegram that is down is not hammered by near-zero delays, while the
// random half still spreads the isolates that failed together.
func (c *Client) backoff(retry int) time.Duration {
	ceiling := c.retryDelay
	for i := 0; i < retry && ceiling < MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, MaxBackoff)
	half := ceiling / 2
	r := c.rand()
	if !(r >= 0 && r < 1) { // also catches NaN
		r = 0
	}
	return half + time.Duration(r*float64(ceiling-half))
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
