package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyhaven/keyhaven/client"
	"github.com/keyhaven/keyhaven/client/envelope"
)

// envelopeFlags are the flags the envelope commands share.
type envelopeFlags struct {
	contexts []string
	in, out  string
}

func (e *envelopeFlags) add(cmd *cobra.Command, withContext bool) {
	f := cmd.Flags()
	if withContext {
		f.StringArrayVar(&e.contexts, "context", nil, "encryption context pair KEY=VALUE; repeat for several (decryption needs the same set)")
	}
	f.StringVar(&e.in, "in", "-", "input file; - for standard input")
	f.StringVar(&e.out, "out", "-", "output file (written in full or not at all); - for standard output")
}

func (e *envelopeFlags) context() (map[string]string, error) {
	if len(e.contexts) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(e.contexts))
	for _, kv := range e.contexts {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--context %q: want KEY=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

// open returns the input (with a progress bar on a terminal) and its closer.
func (e *envelopeFlags) open(cmd *cobra.Command) (io.Reader, func(), error) {
	var in io.Reader = cmd.InOrStdin()
	var size int64 = -1
	closeIn := func() {}
	if e.in != "-" {
		f, err := os.Open(e.in)
		if err != nil {
			return nil, nil, err
		}
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		in, closeIn = f, func() { f.Close() }
	}
	if p := newProgress(cmd.ErrOrStderr(), size); p != nil {
		p.r = in
		in = p
		inner := closeIn
		closeIn = func() { p.finish(); inner() }
	}
	return in, closeIn, nil
}

// write runs f on the output: standard output, or a temporary file renamed
// to --out only if f succeeds (so a failed decryption leaves no file).
func (e *envelopeFlags) write(cmd *cobra.Command, f func(io.Writer) error) error {
	if e.out == "-" {
		return f(cmd.OutOrStdout())
	}
	tmp, err := os.CreateTemp(filepath.Dir(e.out), "."+filepath.Base(e.out)+".partial-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := errors.Join(f(tmp), tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), e.out)
}

func newEnvelopeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "envelope",
		Short: "Encrypt and decrypt data of any size with a data key (envelope encryption)",
		Long: `Encrypt and decrypt data of any size with a data key from the KMS: the data
is encrypted here in 64 KiB chunks (AES-256-GCM, or SM4-GCM on an SM
server) and only the encrypted data key is kept, in the output's header.
Truncation, reordered or swapped chunks, a changed header and a wrong
context are all detected. See docs/envelope.md for the format.`,
		Example: `  keyhaven envelope encrypt --key-id alias/app-data --context app=x < big > big.khv
  keyhaven envelope decrypt --context app=x < big.khv > big
  keyhaven envelope inspect --in big.khv`,
	}
	cmd.AddCommand(envelopeEncryptCmd(g), envelopeDecryptCmd(g), envelopeInspectCmd(g))
	return cmd
}

func envelopeEncryptCmd(g *globals) *cobra.Command {
	var (
		e     envelopeFlags
		ref   string
		chunk int
	)
	cmd := &cobra.Command{
		Use:   "encrypt",
		Short: "Encrypt a stream under a new data key of a CMK",
		Example: `  keyhaven envelope encrypt --key-id alias/app-data --context app=x < big > big.khv
  keyhaven envelope encrypt --key app-data --in big --out big.khv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.client()
			if err != nil {
				return err
			}
			ctx := cmdContext(cmd)
			id, err := resolveKey(ctx, c, ref)
			if err != nil {
				return err
			}
			encCtx, err := e.context()
			if err != nil {
				return err
			}
			in, closeIn, err := e.open(cmd)
			if err != nil {
				return err
			}
			defer closeIn()
			return e.write(cmd, func(out io.Writer) error {
				w, err := envelope.NewWriter(ctx, out, envelope.FromClient(c), id, &envelope.Options{Context: encCtx, ChunkSize: chunk})
				if err != nil {
					return err
				}
				if _, err := io.Copy(w, in); err != nil {
					return err
				}
				return w.Close()
			})
		},
	}
	cmd.Flags().StringVar(&ref, "key-id", "", "key id or alias of the CMK (also --key)")
	cmd.Flags().IntVar(&chunk, "chunk-size", envelope.DefaultChunkSize, "plaintext bytes per chunk")
	cmd.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "key" {
			name = "key-id"
		}
		return pflag.NormalizedName(name)
	})
	e.add(cmd, true)
	cmd.MarkFlagRequired("key-id")
	return cmd
}

func envelopeDecryptCmd(g *globals) *cobra.Command {
	var e envelopeFlags
	cmd := &cobra.Command{
		Use:   "decrypt",
		Short: "Decrypt a stream of `keyhaven envelope encrypt`",
		Long: `Decrypt a stream of ` + "`keyhaven envelope encrypt`" + `. Give the same --context
pairs as at encryption. Data is written only after its chunk
authenticates; with --out, the file appears only if the whole stream does.`,
		Example: `  keyhaven envelope decrypt --context app=x < big.khv > big
  keyhaven envelope decrypt --context app=x --in big.khv --out big`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.client()
			if err != nil {
				return err
			}
			encCtx, err := e.context()
			if err != nil {
				return err
			}
			in, closeIn, err := e.open(cmd)
			if err != nil {
				return err
			}
			defer closeIn()
			r, err := envelope.NewReader(cmdContext(cmd), in, envelope.FromClient(c), &envelope.Options{Context: encCtx})
			if err != nil {
				return err
			}
			return e.write(cmd, func(out io.Writer) error {
				_, err := io.Copy(out, r)
				return err
			})
		},
	}
	e.add(cmd, true)
	return cmd
}

func envelopeInspectCmd(g *globals) *cobra.Command {
	var e envelopeFlags
	cmd := &cobra.Command{
		Use:     "inspect",
		Short:   "Show an envelope stream's header: its CMK, cipher, chunk size and context",
		Example: "  keyhaven envelope inspect --in big.khv\n  keyhaven envelope inspect --output json < big.khv",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.settings()
			if err != nil {
				return err
			}
			in, closeIn, err := e.open(cmd)
			if err != nil {
				return err
			}
			defer closeIn()
			h, err := envelope.ReadHeader(in)
			if err != nil {
				return err
			}
			return printResponse(cmd.OutOrStdout(), s.output, struct {
				KeyId             string
				Algorithm         string
				ChunkSize         int
				EncryptionContext client.EncryptionContext
				EncryptedDataKey  []byte
			}{h.KeyID, h.Algorithm.String(), h.ChunkSize, h.Context, h.EncryptedKey})
		},
	}
	e.add(cmd, false)
	cmd.Flags().MarkHidden("out")
	return cmd
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// progress draws a progress bar of the bytes read on a terminal.
type progress struct {
	r     io.Reader
	w     io.Writer
	size  int64 // -1 if unknown
	n     int64
	start time.Time
	last  time.Time
}

// newProgress returns a progress bar on w if w is a terminal, else nil.
func newProgress(w io.Writer, size int64) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	now := time.Now()
	return &progress{w: w, size: size, start: now, last: now}
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw(now)
	}
	return n, err
}

func (p *progress) draw(now time.Time) {
	rate := float64(p.n) / max(now.Sub(p.start).Seconds(), 1e-3) / 1e6
	if p.size > 0 {
		const width = 30
		done := int(min(p.n, p.size) * width / p.size)
		fmt.Fprintf(p.w, "\r[%s%s] %3d%% %s / %s  %.0f MB/s ", strings.Repeat("#", done), strings.Repeat(".", width-done),
			min(p.n, p.size)*100/p.size, bytesText(p.n), bytesText(p.size), rate)
		return
	}
	fmt.Fprintf(p.w, "\r%s  %.0f MB/s ", bytesText(p.n), rate)
}

func (p *progress) finish() {
	if time.Since(p.start) >= 200*time.Millisecond {
		p.draw(time.Now())
		fmt.Fprintln(p.w)
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
