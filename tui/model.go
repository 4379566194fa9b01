package tui

import (
	"context"
	"log/slog"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// The smallest terminal the console draws in; below it, it says so.
const (
	minWidth  = 60
	minHeight = 15
)

// expiryGrace is how long an expired row stays on screen, greyed, waiting
// for the gateway's expiry event before the console drops it itself.
const expiryGrace = 2 * time.Second

// Model is the console: a root model that owns the four views and the
// overlays (detail, dialogs, input, help) and turns the operator's intents
// into backend calls.
type Model struct {
	backend Backend
	updates <-chan protocol.Update
	ctx     context.Context
	opts    Options
	now     func() time.Time
	log     *slog.Logger
	st      *styles.Styles
	keys    KeyMap

	width, height int

	view     viewID
	pending  pendingView
	paired   pairedView
	activity activityView
	blocked  blockedView
	codes    codesView
	detail   detailView

	pairing pairingSwitch
	silent  silentState
	// features are what the gateway offers of the console's actions.
	features features

	prompt *prompt // the open text input, if any; replaced, never changed in place
	// codeForm is the open form that creates a setup code; codeSecret the
	// code it created, shown once on its page.
	codeForm   *codeForm
	codeSecret *codeSecret
	confirm    *confirmDialog
	quit       *quitDialog   // quitting while others use the embedded gateway
	exit       Exit          // how the console ends
	tokens     []tokenNotice // undelivered tokens, shown one at a time
	flash      flash
	messages   []flash // what the flashes said, oldest first (see messageLimit)
	page       page    // the help or the messages, over the views
	pageOffset int

	conn          protocol.ConnState
	connErr       error
	retryAt       time.Time // when the client tries again, while disconnected
	everConnected bool
	endpoint      string // where the console is attached, in the header

	sync     syncState
	lastBell time.Time
}

// New builds the console over b. Run is the usual way in; New is for
// embedding the model in another program (or a test).
func New(b Backend, opts Options) Model {
	opts = opts.withDefaults()
	m := Model{
		backend:  b,
		ctx:      context.Background(),
		opts:     opts,
		now:      opts.Now,
		log:      opts.Logger,
		st:       styles.New(styles.Resolve(opts.Theme, nil, nil), opts.ColorProfile),
		keys:     DefaultKeyMap(),
		pending:  newPendingView(opts),
		paired:   newPairedView(),
		activity: newActivityView(),
		blocked:  newBlockedView(),
		codes:    newCodesView(),
		sync:     newSyncState(),
		conn:     protocol.Connecting,
		endpoint: opts.Endpoint,
	}
	if !opts.Remote {
		m.conn, m.everConnected = protocol.Connected, true
	}
	m.features = featuresOf(b)
	if b != nil {
		m.updates = b.Updates()
		// Init (a value receiver) cannot record it: the first list is in
		// flight from the start.
		m.sync.startList()
		_, m.activity.history.loading = b.(HistoryBackend)
	}
	m.setStyles(m.st)
	m.syncKeys()
	return m
}

// setStyles paints the console and its parts with st.
func (m *Model) setStyles(st *styles.Styles) {
	m.st = st
	if m.prompt != nil {
		p := *m.prompt
		p.setStyles(st)
		m.prompt = &p
	}
}

// Init lists the queue, subscribes to updates and starts the clock.
func (m Model) Init() tea.Cmd {
	var list tea.Cmd
	if m.backend != nil {
		list = refreshCmd(m.ctx, m.backend)
	}
	return tea.Batch(list, m.startHistory(), waitForUpdate(m.updates), tick())
}

// Update applies one message. Every path ends in syncKeys, so the key map
// — and with it the help — always matches what is on screen.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	before, wasShown, said := m.pending.list.SelectedKey(), m.queueInView(), m.flash
	cmd := m.update(msg)
	m.keepMessage(said)
	m.reconcile()
	if after := m.pending.list.SelectedKey(); after != before && !fromOperator(msg) {
		// The cursor is on another request, and not by the operator's
		// hand: a key already on its way was meant for the one before.
		m.pending.cursorMovedAt = m.now()
	}
	if !wasShown && m.queueInView() {
		// The queue comes back into view (from another view, the detail
		// pane or the help): what is under the cursor is news again.
		m.pending.cursorMovedAt = m.now()
	}
	m.syncKeys()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return nil
	case tea.ColorProfileMsg:
		// The program knows its terminal (an SSH session's, a test's
		// buffer): draw in what it can show.
		if msg.Profile != m.st.Profile {
			m.setStyles(styles.New(m.st.Dark, msg.Profile))
		}
		return nil
	case tickMsg:
		return m.onTick()
	case tea.KeyPressMsg:
		return m.onKey(msg)

	case updateMsg:
		return tea.Batch(m.applyUpdate(msg.update), waitForUpdate(m.updates))
	case updatesClosedMsg:
		// The last state update said why (a shutdown); keep it.
		m.log.Warn("update stream closed")
		m.conn, m.retryAt, m.updates = protocol.Disconnected, time.Time{}, nil
		if m.pairing.known {
			m.pairing.stale = true
		}
		return m.historyOnLink(m.conn)
	case refreshedMsg:
		return m.onRefreshed(msg)
	case historyMsg:
		return m.onHistory(msg)
	case loadOlderMsg:
		return m.loadHistory(loadOlder)
	case decidedMsg:
		return m.onDecided(msg)
	case renamedMsg:
		return m.onRenamed(msg)
	case removedMsg:
		return m.onRemoved(msg)
	case pairingSetMsg:
		return m.onPairingSet(msg)
	case blockedMsg:
		return m.onBlocked(msg)
	case unblockedMsg:
		return m.onUnblocked(msg)
	case silentCheckedMsg:
		return m.onSilentChecked(msg)

	case decideMsg:
		if msg.action == reject && !msg.asked && m.features.offers(FeatureReasons) {
			m.askReason(&reasonAsk{reject: msg.targets})
			return nil
		}
		return m.startDecision(msg.action, msg.targets, msg.reason)
	case askBulkMsg:
		m.askBulk(msg)
		return nil
	case bulkConfirmedMsg:
		return m.decideBulk(msg.bulk)
	case startRenameMsg:
		// The name to edit starts as shown: escaped, if it must be.
		m.openPrompt(promptRename, msg.nodeID, "rename "+shortID(msg.nodeID)+" › ", protocol.Printable(msg.current))
		return nil
	case renameMsg:
		return m.call(func(b Backend) tea.Cmd { return renameCmd(m.ctx, b, msg.nodeID, msg.name) })
	case askRemoveMsg:
		body := []string{
			"Its token stops working at once and its open",
			"connections close. It must pair again to rejoin.",
		}
		if !m.features.all() {
			// An OpenClaw node has no token of pairdeck's to stop.
			body = []string{
				"The gateway forgets it and closes its open",
				"connections. It must pair again to rejoin.",
			}
		}
		m.confirm = &confirmDialog{title: "Remove " + msg.name + "?", body: body, yes: "remove", then: removeMsg(msg)}
		return nil
	case removeMsg:
		return m.call(func(b Backend) tea.Cmd { return removeCmd(m.ctx, b, msg.nodeID, msg.name) })
	case askBlockMsg:
		m.askBlock(msg.target)
		return nil
	case blockMsg:
		if !msg.asked && m.features.offers(FeatureReasons) {
			t := msg.target
			m.askReason(&reasonAsk{block: &t})
			return nil
		}
		return m.startBlock(msg.target)
	case setPairingMsg:
		return m.setPairing(msg.on)
	case unblockMsg:
		return m.call(func(b Backend) tea.Cmd { return unblockCmd(m.ctx, b, msg.nodeID, msg.name) })
	case openDetailMsg:
		m.openDetail()
		return nil
	case refusedMsg:
		m.flash = errorFlash(msg.why, m.now())
		return nil
	case confirmedMsg:
		m.confirm = nil
		return m.update(msg.then)
	case dialogClosedMsg:
		m.confirm = nil
		return nil
	case tokenDismissedMsg:
		if len(m.tokens) > 0 {
			m.tokens[0].token = "" // forget it: it was shown once
			m.tokens = m.tokens[1:]
		}
		return nil
	case promptSubmittedMsg:
		return m.onPromptSubmitted(msg)
	default:
		if cmd, handled := m.updateCodes(msg); handled {
			return cmd
		}
	case promptCancelledMsg:
		if msg.purpose == promptReason {
			m.onReasonCancelled()
			return nil
		}
		m.prompt = nil
		if msg.purpose == promptFilter {
			m.setFilter("")
		}
		return nil
	}
	return nil
}

// queueInView reports whether the queue's rows are on screen.
func (m *Model) queueInView() bool {
	return m.view == viewPending && !m.detail.open && m.page == pageNone
}

// call runs a backend call; without a backend (a model driven by hand)
// there is nothing to call.
func (m *Model) call(f func(Backend) tea.Cmd) tea.Cmd {
	if m.backend == nil {
		return nil
	}
	return f(m.backend)
}

// bodyHeight is the lines between the tabs and the status line.
func (m *Model) bodyHeight() int { return max(m.height-4, 2) }

// layout hands each part its share of the screen: header and tabs on top,
// status and help at the bottom, the body in between.
func (m *Model) layout() {
	bodyH := m.bodyHeight()
	for _, v := range m.views() {
		v.SetSize(m.width, bodyH)
	}
	m.detail.SetSize(m.width, bodyH)
	if m.prompt != nil {
		p := *m.prompt
		p.setWidth(m.width)
		m.prompt = &p
	}
}

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case m.quit != nil:
		return m.onQuitKey(msg)
	case key.Matches(msg, k.Interrupt):
		return m.askQuit()
	case len(m.tokens) > 0:
		return m.tokens[0].Update(msg, k)
	case m.confirm != nil:
		return m.confirm.Update(msg, k)
	case m.codeForm != nil:
		f := *m.codeForm
		cmd := f.Update(msg, k)
		m.codeForm = &f
		return cmd
	case m.prompt != nil:
		p, cmd := m.prompt.Update(msg, k)
		m.prompt = &p
		if p.purpose == promptFilter {
			m.setFilter(p.Value())
		}
		return cmd
	case m.page != pageNone:
		return m.onPageKey(msg)
	}

	switch {
	case key.Matches(msg, k.Quit):
		return m.askQuit()
	case key.Matches(msg, k.Help):
		m.openPage(pageHelp)
		return nil
	case key.Matches(msg, k.Messages):
		m.openPage(pageMessages)
		return nil
	}
	if m.detail.open {
		return m.onDetailKey(msg)
	}

	switch {
	case key.Matches(msg, k.NextView):
		m.view = m.nextView(1)
		return nil
	case key.Matches(msg, k.PrevView):
		m.view = m.nextView(-1)
		return nil
	case key.Matches(msg, k.Filter):
		m.openPrompt(promptFilter, "", "/", m.current().Filter())
		return nil
	case key.Matches(msg, k.ClearFilter):
		m.setFilter("")
		return nil
	case pressed(msg, k.TogglePairing):
		if !m.features.offers(FeaturePairingSwitch) {
			return emit(refusedMsg{why: m.features.why(FeaturePairingSwitch)})
		}
		return m.togglePairing()
	}
	return m.current().onKey(msg, &m.keys, m.viewCtx())
}

// onDetailKey handles the keys of the detail pane: the actions of the
// view the row belongs to, on that row, and scrolling.
func (m *Model) onDetailKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, m.keys.Back) {
		m.detail.open = false
		return nil
	}
	if cmd, handled := m.views()[m.detail.view].onRowKey(msg, &m.keys, m.detail.key, m.viewCtx()); handled {
		return cmd
	}
	_, lines := m.detailLines()
	m.detail, _ = m.detail.Update(msg, m.keys, len(lines))
	return nil
}

// openDetail opens the detail pane on the row under the cursor, if the
// view has one.
func (m *Model) openDetail() {
	rowKey, ok := m.current().selectedKey()
	if !ok {
		return
	}
	m.detail = detailView{open: true, view: m.view, key: rowKey, width: m.detail.width, height: m.detail.height}
}

// detailLines lays out the open detail pane; ok is false when its row is
// gone.
func (m *Model) detailLines() (ok bool, lines []string) {
	title, fields, ok := m.views()[m.detail.view].details(m.detail.key, m.viewCtx())
	if !ok {
		return false, nil
	}
	return true, m.detail.lines(title, fields, m.st)
}

// reconcile closes the detail pane when its row has gone, whatever removed
// it (a decision, another operator, expiry, a re-list).
func (m *Model) reconcile() {
	if !m.detail.open {
		return
	}
	if _, _, ok := m.views()[m.detail.view].details(m.detail.key, m.viewCtx()); !ok {
		m.detail.open = false
	}
}

func (m *Model) setFilter(q string) { m.current().SetFilter(q) }

func (m *Model) openPrompt(purpose promptPurpose, target, label, value string) {
	p := newPrompt(purpose, target, label, value, m.st, m.width)
	m.prompt = &p
}

func (m *Model) onPromptSubmitted(msg promptSubmittedMsg) tea.Cmd {
	if msg.purpose == promptReason {
		return m.onReasonGiven(msg)
	}
	if msg.purpose == promptFilter {
		m.prompt = nil // the filter stays in force; esc clears it
		return nil
	}
	name := trimName(msg.value)
	if name == "" {
		m.flash = errorFlash("A name cannot be empty (esc cancels the rename).", m.now())
		return nil
	}
	m.prompt = nil
	return emit(renameMsg{nodeID: msg.target, name: name})
}

func (m *Model) onTick() tea.Cmd {
	now := m.now()
	cmds := []tea.Cmd{tick()}
	if m.flash.text != "" && !m.flash.active(now) {
		m.flash = flash{}
	}
	if dropped := m.pending.DropExpired(now, expiryGrace); len(dropped) > 0 {
		for _, r := range dropped {
			m.log.Info("dropped expired request", "requestId", r.req.RequestID, "nodeId", r.req.NodeID)
			m.sync.droppedAsExpired(r.req.RequestID, r.expiresAt)
			m.logOnce(decided(r.req.RequestID), activityEntry{
				at: r.expiresAt, kind: actExpired, nodeID: r.req.NodeID, requestID: r.req.RequestID, name: r.name(),
				note: "dropped (no event)",
			})
		}
		// The gateway is the truth: ask it what the queue really is.
		cmds = append(cmds, m.refresh())
	}
	m.pruneSilent()
	m.sync.prune(now)
	if m.sync.retryDue(now) {
		cmds = append(cmds, m.refresh())
	}
	return tea.Batch(cmds...)
}

// logOnce adds an activity entry unless the same happening was already
// logged (the console's own result and the gateway's event both report
// it).
func (m *Model) logOnce(h happening, e activityEntry) {
	now := m.now()
	if !m.sync.first(h, now) {
		return
	}
	if e.at.IsZero() {
		e.at = now
	}
	m.activity.Add(e)
}

// ring sounds the terminal bell for a new request, at most once a second
// however many arrive. The program writes it between frames, never inside
// one.
func (m *Model) ring() tea.Cmd {
	now := m.now()
	if !m.opts.Bell || now.Sub(m.lastBell) < time.Second {
		return nil
	}
	m.lastBell = now
	return tea.Raw("\a")
}
