package client

import (
	"context"
	"time"
)

// SetClock replaces the clock requests are signed with (tests).
func SetClock(c *Client, now func() time.Time) { c.now = now }

// SetSleep replaces the wait between retries (tests).
func SetSleep(c *Client, f func(ctx context.Context, d time.Duration) error) { c.sleep = f }

// Backoff exposes the wait before retry attempt+1 (tests).
func Backoff(c *Client, attempt int) time.Duration { return c.backoff(attempt) }
