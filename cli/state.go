package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/store"
)

// `pairdeck state`: what the state dir's files hold, and the one change to
// their form an operator makes by hand — converting every node token to
// the other token storage. A write never does that by itself (issue 13).

func newStateCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "The state dir's token storage, and converting its tokens",
		Long: `pairdeck keeps node tokens one of two ways ("token storage"):

  hash      only each token's SHA-256 (tokenSha256): a copy of paired.json
            does not let anyone act as a node; OpenClaw 2026.4.12 and
            2026.7.35 cannot verify such a token.
  openclaw  records exactly as those OpenClaw releases write them, plaintext
            token included (paired.json stays 0600), so an OpenClaw gateway
            on the same dir keeps verifying every node.

A dir OpenClaw has written gets openclaw, any other hash; serve and the
console take --token-storage to choose. Tokens minted from then on take the
storage's form; a record nobody changes keeps its own. convert-tokens puts
every record in the storage's form at once.

These commands work on the state dir's files, so no gateway may be running
for it: stop it first (they say which).`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	var asJSON bool
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print the result as JSON")

	show := &cobra.Command{
		Use:   "token-storage",
		Short: "Say which token storage the state dir uses, why, and the form of its tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stateDir, err := g.resolveStateDir()
			if err != nil {
				return err
			}
			st, err := store.Open(store.Options{StateDir: stateDir, ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			info := st.TokenStorage()
			p := newPrinter(cmd.OutOrStdout(), asJSON)
			if asJSON {
				return p.JSON(tokenStorageJSON{Storage: string(info.Storage), Why: info.Why, Plaintext: info.Plaintext, Hashed: info.Hashed})
			}
			p.Line("token storage: %s (%s)", string(info.Storage), info.Why)
			p.Line("paired nodes with a plaintext token: %d, with a hashed token: %d", info.Plaintext, info.Hashed)
			p.Line("%s", info.TradeOff())
			return nil
		},
	}

	var to string
	convert := &cobra.Command{
		Use:   "convert-tokens --to hash|openclaw",
		Short: "Put every paired node's token in one storage's form",
		Long: `Rewrites every paired record in the form of the storage named by --to.
To hash: always possible; OpenClaw 2026.4.12 and 2026.7.35 can no longer
verify the tokens afterwards. To openclaw: refused, naming them, while a node
has only a hashed token, since a token cannot be recovered from its SHA-256
(those nodes must pair again). Recorded in the audit log.`,
		Example: `  pairdeck state convert-tokens --to hash`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usageError("convert-tokens needs --to hash or --to openclaw")
			}
			storage, err := store.ParseTokenStorage(to)
			if err != nil {
				return usageError("--to %q: want hash or openclaw", to)
			}
			stateDir, err := g.resolveStateDir()
			if err != nil {
				return err
			}
			if err := checkNoGateway(stateDir); err != nil {
				return err
			}
			owner, err := inspectOpenClaw(cmd.Context(), stateDir)
			if err != nil {
				return err
			}
			if owner.answers {
				return fmt.Errorf("OpenClaw's gateway at %s serves %s: stop it first, as tokens are converted in the files it holds", owner.url(), stateDir)
			}
			if owner.database != "" {
				return owner.databaseError()
			}
			st, err := store.Open(store.Options{StateDir: stateDir, TokenStorage: storage, LockWait: offlineLockWait})
			if err != nil {
				return err
			}
			res, err := st.ConvertTokens(context.WithoutCancel(cmd.Context()), selfActor("cli", stateDir))
			if cerr := st.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			p := newPrinter(cmd.OutOrStdout(), asJSON)
			if asJSON {
				return p.JSON(conversionJSON{Storage: string(res.Storage), Converted: res.Converted, Unchanged: res.Unchanged})
			}
			p.Line("converted %d paired node(s) to token storage %s (%d already in that form)", res.Converted, string(res.Storage), res.Unchanged)
			if res.Storage == store.TokenStorageHash && res.Converted > 0 {
				p.Line("a gateway on this dir keeps hashing only with the hash storage: start it with --token-storage hash if OpenClaw also wrote the dir")
			}
			return nil
		},
	}
	convert.Flags().StringVar(&to, "to", "", "the token storage to convert to: hash or openclaw")
	cmd.AddCommand(show, convert)
	return cmd
}

type tokenStorageJSON struct {
	Storage   string `json:"tokenStorage"`
	Why       string `json:"why"`
	Plaintext int    `json:"plaintext"`
	Hashed    int    `json:"hashed"`
}

type conversionJSON struct {
	Storage   string `json:"tokenStorage"`
	Converted int    `json:"converted"`
	Unchanged int    `json:"unchanged"`
}
