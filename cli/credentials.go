package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
)

// What an operator presents to a gateway: pairdeck's gateways and OpenClaw's
// in token mode take a token; OpenClaw's in password mode a password.

// passwordFlags are the command-line ways to give a gateway password.
type passwordFlags struct {
	password string
	file     string
}

func (p *passwordFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&p.file, "password-file", "", "read the gateway password from this file (- reads stdin), for gateways in password mode")
	fl.StringVar(&p.password, "password", "", "gateway password (visible to every local user in the process list: prefer --password-file or $"+envOpenClawPassword+")")
}

// value returns the password the flags give and how, or "", "" when
// neither was used.
func (p *passwordFlags) value(stdin io.Reader) (password, source string, err error) {
	switch {
	case p.file != "" && p.password != "":
		return "", "", usageError("give the password once: --password-file or --password, not both")
	case p.file != "":
		pw, err := readSecret(p.file, stdin, "password")
		if err != nil {
			return "", "", err
		}
		return pw, "--password-file " + p.file, nil
	case strings.TrimSpace(p.password) != "":
		return strings.TrimSpace(p.password), "--password", nil
	}
	return "", "", nil
}

// secretFlags are the operator's secret flags: a token or a password.
type secretFlags struct {
	tok tokenFlags
	pw  passwordFlags
}

func (s *secretFlags) register(fl *pflag.FlagSet) {
	s.tok.register(fl)
	s.pw.register(fl)
}

// credentials are what an operator presents. Neither is ever logged.
type credentials struct {
	token, password string
}

// given reads the flags: what the operator typed wins over the
// environment and every file. --token-file - and --password-file - both
// reading stdin is refused.
func (s *secretFlags) given(stdin io.Reader) (credentials, error) {
	if s.tok.file == "-" && s.pw.file == "-" {
		return credentials{}, usageError("--token-file - and --password-file - cannot both read stdin: give one of them a file")
	}
	token, _, err := s.tok.value(stdin)
	if err != nil {
		return credentials{}, err
	}
	password, _, err := s.pw.value(stdin)
	if err != nil {
		return credentials{}, err
	}
	return credentials{token: token, password: password}, nil
}

// forPairdeck completes what was given for a pairdeck gateway (or one
// named with --url): $OPENCLAW_GATEWAY_PASSWORD, and the token as
// gateway.LookupToken finds it ($OPENCLAW_GATEWAY_TOKEN, openclaw.json,
// the token pairdeck generated). With a password and no token, no token is
// looked for: password gateways want the password alone.
func (c credentials) forPairdeck(stateDir string) (credentials, error) {
	if c.password == "" && c.token == "" {
		c.password = strings.TrimSpace(os.Getenv(envOpenClawPassword))
	}
	if c.token != "" || c.password != "" {
		return c, nil
	}
	token, _, err := gateway.LookupToken("", stateDir)
	if err != nil {
		return c, err
	}
	c.token = token
	return c, nil
}

// forOpenClaw completes what was given for the OpenClaw gateway that owns
// the dir, as OpenClaw's own clients do: the environment
// ($OPENCLAW_GATEWAY_TOKEN / _PASSWORD) first, then openclaw.json (local
// mode: gateway.auth.*, then gateway.remote.*; remote mode the other way
// round), choosing the secret by gateway.auth.mode.
func (c credentials) forOpenClaw(d *openclawDir) (credentials, error) {
	if c.token != "" || c.password != "" {
		return c, nil
	}
	mode := d.cfg.authMode
	if mode == "none" {
		return c, nil
	}
	tokenFields := []secretField{d.cfg.authToken, d.cfg.remoteToken}
	passwordFields := []secretField{d.cfg.authPassword, d.cfg.remotePassword}
	if d.cfg.mode == "remote" {
		tokenFields = []secretField{d.cfg.remoteToken, d.cfg.authToken}
		passwordFields = []secretField{d.cfg.remotePassword, d.cfg.authPassword}
	}
	lookup := func(env, fileFlag string, fields []secretField) (string, error) {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return v, nil
		}
		for _, f := range fields {
			v, err := f.resolve(d.configPath, env, fileFlag)
			if err != nil || v != "" {
				return v, err
			}
		}
		return "", nil
	}
	wantPassword := mode == "password" || mode == "trusted-proxy"
	if !wantPassword {
		token, err := lookup(gateway.EnvToken, "--token-file", tokenFields)
		if err != nil || token != "" || mode == "token" {
			c.token = token
			if err == nil && token == "" {
				err = fmt.Errorf("%s says gateway.auth.mode is token, but names no token: give it with --token-file or $%s", d.configPath, gateway.EnvToken)
			}
			return c, err
		}
	}
	password, err := lookup(envOpenClawPassword, "--password-file", passwordFields)
	if err == nil && password == "" && wantPassword {
		err = fmt.Errorf("%s says gateway.auth.mode is %s, but names no password: give it with --password-file or $%s", d.configPath, mode, envOpenClawPassword)
	}
	c.password = password
	return c, err
}

// apply puts the credentials into a client's configuration.
func (c credentials) apply(cfg *client.Config) {
	cfg.Token, cfg.Password = c.token, c.password
}
