// One live board on a page: charts on its server-rendered cards, stream events applied to them,
// and a refresh from the board's JSON on `board` and `reset` events. The board page has one;
// a playlist page has one per board it rotates through.

import { mountAll, unmountAll } from './chart.js';
import { applyEvent } from './widgets.js';

export class LiveBoard {
  /**
   * @param root the element holding the board's `.board-head` and `.grid[data-board]`
   * @param pageUrl the page whose HTML re-renders the board (its `.board-head` and grid are taken)
   * @param handlers { gone(): the board was deleted or hidden, renamed(): its slug changed }
   */
  constructor(root, pageUrl, handlers) {
    this.root = root;
    this.pageUrl = pageUrl;
    this.handlers = handlers;
    this.grid = root.querySelector('.grid[data-board]');
    this.slug = this.grid.dataset.board;
    // Events that arrive while the grid is being re-read wait here, then apply in order.
    this.refreshing = false;
    this.refreshAgain = null;
    this.waiting = [];
    mountAll(this.grid);
  }

  card(key) {
    return [...this.grid.querySelectorAll('.card')].find((c) => c.dataset.key === key);
  }

  onWidget(event) {
    if (event.board !== this.slug) return;
    if (this.refreshing) this.waiting.push(event);
    else applyEvent(this.card(event.widget), event);
  }

  onChange(change) {
    if (change.board !== this.slug) return;
    // `reload` is what Smashing scripts send (POST /dashboards/{board}): the whole page reloads.
    if (change.action === 'reload') window.location.reload();
    else if (change.action === 'renamed') this.handlers.renamed();
    else this.refresh(false);
  }

  /**
   * Re-reads the board's JSON. Values alone changed: they are applied in place. The board's
   * layout changed (or events were missed, `force`): the grid is re-rendered from the server's
   * HTML, so the markup has one source.
   */
  async refresh(force) {
    if (this.refreshing) {
      this.refreshAgain = this.refreshAgain || force;
      return;
    }
    this.refreshing = true;
    try {
      const response = await fetch(`/dashboard/boards/${encodeURIComponent(this.slug)}`, {
        headers: { Accept: 'application/json' },
        cache: 'no-store',
      });
      if (response.status === 404) return this.handlers.gone();
      if (!response.ok) throw new Error(`board JSON: HTTP ${response.status}`);
      const snapshot = await response.json();
      if (force || this.layoutChanged(snapshot)) await this.rerender();
      else for (const widget of snapshot.widgets) if (widget.latest) applyEvent(this.card(widget.key), widget.latest);
    } catch (error) {
      console.warn('could not refresh the board', error);
    } finally {
      this.refreshing = false;
      for (const event of this.waiting.splice(0)) this.onWidget(event);
      if (this.refreshAgain !== null) {
        const again = this.refreshAgain;
        this.refreshAgain = null;
        this.refresh(again);
      }
    }
  }

  layoutChanged(snapshot) {
    const head = this.root.querySelector('.board-head');
    const description = head.querySelector('.board-desc')?.textContent ?? '';
    if (head.querySelector('h1').textContent !== snapshot.title || description !== snapshot.description) return true;
    if (this.grid.dataset.columns !== String(snapshot.columns)) return true;
    const cards = [...this.grid.querySelectorAll('.card')];
    if (cards.length !== snapshot.widgets.length) return true;
    return snapshot.widgets.some((w, i) => {
      const c = cards[i];
      return c.dataset.key !== w.key || c.dataset.kind !== w.kind
        || c.querySelector('.card-title').textContent !== w.title
        || c.dataset.config !== JSON.stringify(w.config);
    });
  }

  async rerender() {
    const response = await fetch(this.pageUrl, { headers: { Accept: 'text/html' }, cache: 'no-store' });
    if (response.status === 404) return this.handlers.gone();
    if (!response.ok) throw new Error(`board page: HTTP ${response.status}`);
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    const freshGrid = page.querySelector('.grid[data-board]');
    const freshHead = page.querySelector('.board-head');
    if (!freshGrid || !freshHead) throw new Error('board page without a grid');
    unmountAll(this.grid);
    const head = this.root.querySelector('.board-head');
    // The fresh parts take the ids (or none) of those they replace: a playlist holds many boards.
    for (const [old, fresh] of [[this.grid, freshGrid], [head, freshHead]]) {
      if (old.id) fresh.id = old.id;
      else fresh.removeAttribute('id');
      old.replaceWith(fresh);
    }
    this.grid = freshGrid;
    mountAll(this.grid);
    return page;
  }
}
