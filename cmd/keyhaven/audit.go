package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/audit"
)

// newAuditCmd is `keyhaven audit`: checks and reads of the audit trail,
// offline in a data dir (--data-dir; the server may be stopped, or running:
// only complete lines are read) or online through a server's cloudaudit
// actions (cli_audit.go).
func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, look up and export the tamper-evident audit trail",
		Long: `Verify, look up and export the tamper-evident audit trail.

With --data-dir DIR, verify and export read the trail in the server's data
directory DIR directly (offline: the server may be stopped), every account's
events. Without --data-dir they ask the server at --endpoint (or
KEYHAVEN_ENDPOINT, or the profile's endpoint) with the client's credentials,
like every client command: VerifyAuditTrail, and LookUpEvents for the
caller's account's events. lookup is online only.`,
		Example: `  keyhaven audit verify
  keyhaven audit lookup --event-name Encrypt --start-time 2026-01-02T00:00:00Z
  keyhaven audit export --data-dir ./keyhaven-data > events.jsonl`,
	}
	var (
		dataDir string
		q       auditQuery
	)
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check every node's hash chain; say where the first change, removal or reordering is",
		Example: `  keyhaven audit verify --data-dir ./keyhaven-data
  keyhaven audit verify --endpoint https://kms.example:8400 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			online, err := auditOnline(cmd)
			if err != nil {
				return err
			}
			if online {
				return verifyOnline(cmd)
			}
			report, err := audit.Verify(filepath.Join(dataDir, "audit"))
			out := cmd.OutOrStdout()
			for _, n := range report.Nodes {
				fmt.Fprintf(out, "node %s: %d events (seq %d to %d) in %d segments, last hash %s\n", n.Node, n.Events, n.FirstSeq, n.LastSeq, n.Segments, n.LastHash)
			}
			var ve *audit.VerifyError
			if errors.As(err, &ve) {
				return fmt.Errorf("audit trail is NOT intact: %s line %d (seq %d): %s", ve.File, ve.Line, ve.Seq, ve.Reason)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(out, "audit trail intact")
			return nil
		},
	}
	export := &cobra.Command{
		Use:   "export",
		Short: "Write events as JSON lines: offline in chain order per node, online newest first",
		Long: `Write events as JSON lines, each exactly as the trail holds it (hash chain
fields included). Offline (--data-dir), every event of every account in chain
order per node; online, the caller's account's events newest first, paged
through LookUpEvents. The filters select events in both modes.`,
		Example: `  keyhaven audit export --data-dir ./keyhaven-data > events.jsonl
  keyhaven audit export --start-time 2026-01-01T00:00:00Z --event-name Decrypt > decrypts.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			online, err := auditOnline(cmd)
			if err != nil {
				return err
			}
			if online {
				return exportOnline(cmd, q)
			}
			start, end, err := q.times(0)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			return audit.Read(filepath.Join(dataDir, "audit"), func(e audit.Event) error {
				t := uint64(max(e.Time.Unix(), 0))
				if t < start || t >= end || q.eventName != "" && e.Action != q.eventName ||
					q.username != "" && e.User != q.username || q.resourceName != "" && !slices.Contains(e.KeyIDs, q.resourceName) {
					return nil
				}
				return enc.Encode(e)
			})
		},
	}
	for _, c := range []*cobra.Command{verify, export} {
		c.Flags().StringVar(&dataDir, "data-dir", "", "the server's data directory, read offline (default: ask the server at --endpoint)")
		cmd.AddCommand(c)
	}
	q.addFlags(export, "everything")
	cmd.AddCommand(auditLookupCmd())
	return cmd
}

// auditOnline reports whether an audit command asks a server: it does
// unless --data-dir is given; both --data-dir and --endpoint is an error.
func auditOnline(cmd *cobra.Command) (bool, error) {
	f := cmd.Flags()
	if !f.Changed("data-dir") {
		return true, nil
	}
	if f.Changed("endpoint") {
		return false, errors.New("give --data-dir DIR to read a data directory offline, or --endpoint URL to ask a server, not both")
	}
	return false, nil
}
