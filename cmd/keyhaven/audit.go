package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/keyhaven/keyhaven/audit"
)

// newAuditCmd is `keyhaven audit`: offline checks of a data dir's audit
// trail (the server may be stopped, or running: only complete lines are read).
func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the tamper-evident audit trail",
	}
	var dataDir string
	verify := &cobra.Command{
		Use:     "verify",
		Short:   "Check every node's hash chain; say where the first change, removal or reordering is",
		Example: `  keyhaven audit verify --data-dir ./keyhaven-data`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
		Use:     "export",
		Short:   "Write every event as JSON lines, in chain order per node",
		Example: `  keyhaven audit export --data-dir ./keyhaven-data > events.jsonl`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			enc := json.NewEncoder(cmd.OutOrStdout())
			return audit.Read(filepath.Join(dataDir, "audit"), func(e audit.Event) error { return enc.Encode(e) })
		},
	}
	for _, c := range []*cobra.Command{verify, export} {
		c.Flags().StringVar(&dataDir, "data-dir", "./keyhaven-data", "the server's data directory")
		cmd.AddCommand(c)
	}
	return cmd
}
