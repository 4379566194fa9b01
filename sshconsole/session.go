package sshconsole

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"github.com/charmbracelet/colorprofile"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui"
)

// ActorKind is the Kind of the actor behind a decision made over SSH.
const ActorKind = "ssh"

// clientID names the console over SSH among the gateway's operators.
const clientID = "pairdeck-ssh"

// serveSession runs one console on one SSH session, or says why not.
// It is the server's only handler: there is no shell, command or
// subsystem behind it.
func (s *Server) serveSession(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.console(sess)
		next(sess)
	}
}

func (s *Server) console(sess ssh.Session) {
	remote := sess.RemoteAddr().String()
	key, ok := s.keys.lookup(sess.PublicKey())
	if !ok {
		// Taken out of the file since this connection signed in.
		s.log.Warn("ssh: session refused: its key is no longer in the authorized keys file", "remote", remote)
		refuse(sess, "your key is no longer in the gateway's authorized keys file")
		return
	}
	log := s.log.With("remote", remote, "key", key.fingerprint)
	if sess.RawCommand() != "" || sess.Subsystem() != "" {
		log.Info("ssh: session refused: a command was given", "command", protocol.Printable(sess.RawCommand()))
		refuse(sess, "this server runs the pairdeck console and nothing else; connect without a command: ssh -t "+s.hint(sess))
		return
	}
	pty, winch, ok := sess.Pty()
	if !ok {
		log.Info("ssh: session refused: no terminal")
		refuse(sess, "the console needs a terminal, and this session has none; ask ssh for one with -t: ssh -t "+s.hint(sess))
		return
	}
	if pty.Term == "" || pty.Term == "dumb" {
		log.Info("ssh: session refused: the terminal cannot draw", "term", protocol.Printable(pty.Term))
		refuse(sess, fmt.Sprintf("the console needs a terminal that can move the cursor (TERM=%q cannot); connect from a terminal such as xterm", protocol.Printable(pty.Term)))
		return
	}
	if err := s.openSession(); err != nil {
		log.Warn("ssh: session refused", "why", err)
		refuse(sess, err.Error())
		return
	}
	defer s.closeSession()

	actor := protocol.Actor{
		Kind:           ActorKind,
		ClientID:       clientID,
		Role:           protocol.RoleOperator,
		RemoteAddr:     remote,
		User:           cleanUser(sess.User()),
		Name:           key.comment,
		KeyFingerprint: key.fingerprint,
	}
	be := watch(s.cfg.Gateway.Local(actor))
	defer be.Close()

	env := append(sess.Environ(), "TERM="+pty.Term)
	profile := colorprofile.Env(env)
	theme := styles.ThemeDark
	if dark, ok := styles.DarkFromColorFGBG(lookupEnv(env, "COLORFGBG")); ok && !dark {
		theme = styles.ThemeLight
	}
	w, h := pty.Window.Width, pty.Window.Height
	if w <= 0 || h <= 0 {
		w, h = 80, 24
	}
	log.Info("ssh: console opened", "name", key.comment, "user", actor.User, "term", protocol.Printable(pty.Term),
		"size", fmt.Sprintf("%dx%d", w, h), "colors", profile.String(), "theme", theme)

	p := tui.Program(sess.Context(), be, tui.Options{
		Now:          s.cfg.Now,
		Theme:        theme,
		ColorProfile: profile,
		Endpoint:     s.endpoint(key),
		Logger:       log,
		Actor:        actor,
	},
		tea.WithInput(sess),
		tea.WithOutput(sess),
		tea.WithEnvironment(env),
		tea.WithWindowSize(w, h),
		// The process's signals are the gateway's, not this console's.
		tea.WithoutSignalHandler(),
		// There is no shell to suspend to.
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if _, ok := msg.(tea.SuspendMsg); ok {
				return nil
			}
			return msg
		}),
	)

	// Window changes reach the console until the session's requests end
	// (winch is closed then); sends after the program ended are dropped.
	go func() {
		for win := range winch {
			if win.Width > 0 && win.Height > 0 {
				p.Send(tea.WindowSizeMsg{Width: win.Width, Height: win.Height})
			}
		}
	}()

	// When the gateway (or this server) shuts down, the console shows it
	// for a moment, then the program ends and the session says why.
	var ended atomic.Bool
	done := make(chan struct{})
	go func() {
		select {
		case <-be.gone:
		case <-s.stopping:
		case <-done:
			return
		}
		t := time.NewTimer(s.cfg.ShutdownNotice)
		defer t.Stop()
		select {
		case <-t.C:
		case <-done:
			return
		}
		ended.Store(true)
		p.Quit()
	}()
	_, err := p.Run()
	close(done)
	if err != nil && sess.Context().Err() == nil {
		log.Error("ssh: console failed", "err", err)
	}
	if ended.Load() {
		fmt.Fprintf(sess, "pairdeck: the gateway at %s shut down, so this console has closed.\n", protocol.Printable(s.cfg.GatewayURL))
		log.Info("ssh: console closed: the gateway shut down")
	} else {
		log.Info("ssh: console closed")
	}
	_ = sess.Exit(0)
}

// refuse tells the client why there is no console, on its error stream,
// and ends the session with status 1.
func refuse(sess ssh.Session, why string) {
	fmt.Fprintf(sess.Stderr(), "pairdeck: %s\n", why)
	_ = sess.Exit(1)
}

// hint is how to connect to this server, for refusals: "-p 2222 host".
func (s *Server) hint(sess ssh.Session) string {
	host, port := "HOST", ""
	if h, p, err := net.SplitHostPort(sess.LocalAddr().String()); err == nil {
		host, port = h, p
	}
	if port == "" || port == "22" {
		return host
	}
	return "-p " + port + " " + host
}

// endpoint is the console's header: over SSH, and as whom — the host is
// the one the operator connected to.
func (s *Server) endpoint(key authorizedKey) string {
	who := key.comment
	if who == "" {
		who = key.fingerprint
	}
	return "ssh · " + who
}

// cleanUser is the user name the client gave, when it is fit for the
// audit log (a name of printable text, not too long).
func cleanUser(u string) string {
	if len(u) > 64 || protocol.CheckText(u) != nil {
		return ""
	}
	return u
}

func lookupEnv(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val // the last one wins, as in a shell
		}
	}
	return v
}

// backend is the gateway's in-process operator as one console sees it,
// with an eye on its updates: the gateway's shutdown reaches the console
// through them, and the session ends after it.
type backend struct {
	*gateway.LocalOperator
	updates chan protocol.Update
	gone    chan struct{} // closed once the console has been told the gateway stopped
	stop    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

func watch(lo *gateway.LocalOperator) *backend {
	b := &backend{
		LocalOperator: lo,
		updates:       make(chan protocol.Update),
		gone:          make(chan struct{}),
		stop:          make(chan struct{}),
	}
	b.wg.Go(func() {
		defer close(b.updates)
		for u := range lo.Updates() {
			select {
			case b.updates <- u:
			case <-b.stop:
				return
			}
			if u.StateChanged && u.State == protocol.Disconnected {
				// Keep the stream open: the console goes on showing why
				// it is disconnected until the session ends.
				close(b.gone)
				<-b.stop
				return
			}
		}
	})
	return b
}

// Updates is the operator's updates, passed on one by one.
func (b *backend) Updates() <-chan protocol.Update { return b.updates }

// Close ends the operator session.
func (b *backend) Close() {
	b.once.Do(func() { close(b.stop) })
	b.LocalOperator.Close()
	b.wg.Wait()
}
