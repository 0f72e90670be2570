package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/client"
)

// The online half of `keyhaven audit` (audit.go): VerifyAuditTrail and
// LookUpEvents through the client.

// errTrailBroken makes `keyhaven audit verify` exit 1 after printing the
// server's report.
var errTrailBroken = errors.New("audit trail is NOT intact")

// auditQuery is the filter flags of `audit lookup` and `audit export`.
type auditQuery struct {
	start, end                        string
	eventName, resourceName, username string
}

func (q *auditQuery) addFlags(cmd *cobra.Command, defaultStart string) {
	f := cmd.Flags()
	f.StringVar(&q.start, "start-time", "", "events at or after this time: Unix seconds or RFC 3339 (default "+defaultStart+")")
	f.StringVar(&q.end, "end-time", "", "events before this time: Unix seconds or RFC 3339 (default: now)")
	f.StringVar(&q.eventName, "event-name", "", "only events of this action, such as Encrypt")
	f.StringVar(&q.resourceName, "resource-name", "", "only events touching this KeyId")
	f.StringVar(&q.username, "username", "", "only events of this user (its Uin)")
}

// times returns the query's [start, end) in Unix seconds; end defaults to
// the end of this second, start to span before end (0: the beginning).
func (q *auditQuery) times(span time.Duration) (uint64, uint64, error) {
	start, err := parseTime("start-time", q.start)
	if err != nil {
		return 0, 0, err
	}
	end, err := parseTime("end-time", q.end)
	if err != nil {
		return 0, 0, err
	}
	if q.end == "" {
		end = uint64(time.Now().Unix()) + 1
	}
	if q.start == "" && span > 0 {
		start = end - min(end, uint64(span/time.Second))
	}
	if start >= end {
		return 0, 0, errors.New("--start-time must be before --end-time")
	}
	return start, end, nil
}

// request is the query as a LookUpEvents request.
func (q *auditQuery) request(span time.Duration) (client.LookUpEventsRequest, error) {
	start, end, err := q.times(span)
	if err != nil {
		return client.LookUpEventsRequest{}, err
	}
	req := client.LookUpEventsRequest{StartTime: start, EndTime: end}
	for _, a := range [][2]string{{"EventName", q.eventName}, {"ResourceName", q.resourceName}, {"Username", q.username}} {
		if a[1] != "" {
			req.LookupAttributes = append(req.LookupAttributes, client.LookupAttribute{AttributeKey: a[0], AttributeValue: a[1]})
		}
	}
	return req, nil
}

// auditClient is the client of an online audit command.
func auditClient(cmd *cobra.Command) (*client.Client, settings, error) {
	c, s, err := flagGlobals(cmd).client()
	if err != nil {
		return nil, s, fmt.Errorf("%w (or give --data-dir DIR to read a data directory offline)", err)
	}
	return c, s, nil
}

func verifyOnline(cmd *cobra.Command) error {
	if _, _, err := auditClient(cmd); err != nil {
		return err
	}
	return flagGlobals(cmd).api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
		resp, err := c.VerifyAuditTrail(ctx)
		if err == nil && !resp.Valid {
			where := ""
			if resp.File != "" {
				where = fmt.Sprintf(" at %s line %d", resp.File, resp.Line)
			}
			err = fmt.Errorf("%w%s: %s", errTrailBroken, where, resp.Problem)
		}
		return resp, err
	})(cmd, nil)
}

func auditLookupCmd() *cobra.Command {
	var (
		q          auditQuery
		maxResults uint64
		nextToken  string
	)
	cmd := &cobra.Command{
		Use:   "lookup",
		Short: "Look up the account's audit events, newest first (LookUpEvents)",
		Long: `Look up a page of the account's audit events, newest first (LookUpEvents).
When ListOver is false, --next-token NextToken gets the next page.`,
		Example: `  keyhaven audit lookup
  keyhaven audit lookup --event-name Decrypt --resource-name 1b2c...-... --start-time 2026-01-02T00:00:00Z
  keyhaven audit lookup --username 100000000001 --max-results 50 --next-token 50 --output json`,
		Args: cobra.NoArgs,
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if _, _, err := auditClient(cmd); err != nil {
			return err
		}
		return flagGlobals(cmd).api(func(ctx context.Context, c *client.Client, _ *cobra.Command) (any, error) {
			req, err := q.request(24 * time.Hour)
			if err != nil {
				return nil, err
			}
			req.MaxResults, req.NextToken = maxResults, nextToken
			return c.LookUpEvents(ctx, req)
		})(cmd, nil)
	}
	q.addFlags(cmd, "24 hours before --end-time")
	cmd.Flags().Uint64Var(&maxResults, "max-results", 0, "events a page, 1-50 (default 20)")
	cmd.Flags().StringVar(&nextToken, "next-token", "", "the NextToken of the previous page")
	return cmd
}

// exportOnline pages through LookUpEvents writing each event as the trail
// holds it, one JSON line each. Events that arrive during the export and
// fall in its window shift later pages; an event seen on the previous page
// is not written twice.
func exportOnline(cmd *cobra.Command, q auditQuery) error {
	c, _, err := auditClient(cmd)
	if err != nil {
		return err
	}
	req, err := q.request(0)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	req.MaxResults = 50
	w := bufio.NewWriter(cmd.OutOrStdout())
	var prev map[string]bool
	for {
		resp, err := c.LookUpEvents(ctx, req)
		if err != nil {
			return errors.Join(err, w.Flush())
		}
		seen := make(map[string]bool, len(resp.Events))
		for _, e := range resp.Events {
			seen[e.EventID] = true
			if prev[e.EventID] {
				continue
			}
			w.WriteString(e.CloudAuditEvent)
			if err := w.WriteByte('\n'); err != nil {
				return err
			}
		}
		if resp.ListOver || resp.NextToken == "" {
			return w.Flush()
		}
		prev, req.NextToken = seen, resp.NextToken
	}
}
