// A page's connection to the SSE stream, and the indicator that shows its state:
// connecting → live (or polling, when the server is in its database-polling fallback) →
// reconnecting after a drop → offline once SSE_CONNECTION_TIMEOUT passes without a hello.

const LABELS = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Live · polling',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  off: 'Updates paused',
};

export class Stream {
  /**
   * @param indicator the #stream-state element, carrying data-url, -auto, -timeout-ms, -retry-ms,
   *   and data-ticket-url when the stream is on another origin and the board private
   * @param boards the slugs of the boards it streams, comma-separated
   * @param lastEventId the id of the snapshot the page was rendered from
   * @param handlers { widget(event), board(change), reset(info) }
   */
  constructor(indicator, boards, lastEventId, handlers) {
    this.indicator = indicator;
    this.boards = boards;
    this.lastEventId = lastEventId;
    this.handlers = handlers;
    this.url = indicator.dataset.url;
    this.timeoutMs = Number(indicator.dataset.timeoutMs) || 5000;
    this.retryMs = Number(indicator.dataset.retryMs) || 5000;
    this.ticketUrl = indicator.dataset.ticketUrl;
    // The page's own ticket admits only its first connection within a minute of rendering.
    this.ticketUsed = false;
    this.source = null;
    this.offlineTimer = null;
    this.retryTimer = null;
  }

  /** Connects, or (with SSE_AUTO_REFRESH off) waits for the "Go live" button. */
  start() {
    if (this.indicator.dataset.auto === 'false') {
      this.setState('off');
      const button = this.indicator.querySelector('.stream-connect');
      button.hidden = false;
      button.addEventListener('click', () => {
        button.hidden = true;
        this.open();
      }, { once: true });
      return;
    }
    this.open();
  }

  close() {
    clearTimeout(this.retryTimer);
    this.disarmOffline();
    if (this.source) this.source.close();
    this.source = null;
    this.ticketRequest = null;
  }

  open() {
    this.close();
    const url = new URL(this.url, window.location.href);
    url.searchParams.set('boards', this.boards);
    url.searchParams.set('last_event_id', String(this.lastEventId));
    if (this.ticketUrl && this.ticketUsed) {
      this.openWithFreshTicket(url);
      return;
    }
    this.ticketUsed = true;
    this.connect(url);
  }

  /**
   * A ticket admits a stream only while it is young, so a reconnect asks the page's server for
   * a fresh one (with the page's cookies); failing that, it tries again later.
   */
  async openWithFreshTicket(url) {
    this.setState(this.state === 'offline' ? 'offline' : 'reconnecting');
    this.armOffline();
    const request = {};
    this.ticketRequest = request;
    try {
      const response = await fetch(this.ticketUrl, { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) throw new Error(`ticket: HTTP ${response.status}`);
      const { ticket } = await response.json();
      if (ticket) url.searchParams.set('ticket', ticket);
      else url.searchParams.delete('ticket');
    } catch {
      if (this.ticketRequest !== request) return;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.open(), this.retryMs);
      return;
    }
    // Closed or reopened meanwhile: that newer attempt owns the stream.
    if (this.ticketRequest !== request) return;
    this.connect(url);
  }

  connect(url) {
    const source = new EventSource(url);
    this.source = source;
    this.setState(this.state === 'offline' ? 'offline' : 'connecting');
    this.armOffline();
    source.addEventListener('hello', (e) => {
      const hello = JSON.parse(e.data);
      this.disarmOffline();
      this.setState(hello.mode === 'polling' ? 'polling' : 'live');
    });
    source.addEventListener('widget', (e) => {
      this.track(e);
      this.handlers.widget(JSON.parse(e.data));
    });
    source.addEventListener('board', (e) => this.handlers.board(JSON.parse(e.data)));
    source.addEventListener('reset', (e) => {
      this.track(e);
      this.handlers.reset(JSON.parse(e.data));
    });
    source.addEventListener('error', () => this.dropped(source));
  }

  /** The id the browser will resume from; kept for reopening a stream it gave up on. */
  track(e) {
    const id = Number(e.lastEventId);
    if (Number.isFinite(id) && id > 0) this.lastEventId = id;
  }

  dropped(source) {
    if (source !== this.source) return;
    if (this.state !== 'offline') this.setState('reconnecting');
    this.armOffline();
    // The browser retries a dropped connection by itself (resuming with Last-Event-ID), but
    // gives up after a non-200 answer such as a 503; then reopen from the last id seen.
    if (source.readyState === EventSource.CLOSED) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.open(), this.retryMs);
    }
  }

  armOffline() {
    if (this.offlineTimer) return;
    this.offlineTimer = setTimeout(() => {
      this.offlineTimer = null;
      this.setState('offline');
    }, this.timeoutMs);
  }

  disarmOffline() {
    clearTimeout(this.offlineTimer);
    this.offlineTimer = null;
  }

  setState(state) {
    this.state = state;
    this.indicator.dataset.state = state;
    document.documentElement.dataset.stream = state;
    this.indicator.querySelector('.stream-label').textContent = LABELS[state];
    this.indicator.title = `Stream: ${LABELS[state]}`;
  }
}
