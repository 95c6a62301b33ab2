// The board page: its live board, kept current over a stream of its own.

import { startClock, syncWithServer } from './clock.js';
import { LiveBoard } from './live_board.js';
import { Stream } from './stream.js';

const grid = document.getElementById('board');
syncWithServer(Number(grid.dataset.serverNow));
startClock(document);

function gone() {
  stop('This board has been deleted. The values below are the last ones it had.');
}

/** The board's slug changed: this page's address (and its stream's filter) no longer name it. */
function renamed() {
  const boards = document.createElement('a');
  boards.href = '/';
  boards.textContent = 'Find it among the boards';
  stop('This board has been renamed, so this page no longer updates. ', boards);
}

function stop(...message) {
  stream.close();
  stream.setState('offline');
  const notice = document.getElementById('board-notice');
  notice.replaceChildren(...message);
  notice.hidden = false;
}

class BoardPage extends LiveBoard {
  async rerender() {
    const page = await super.rerender();
    if (page) document.title = page.title;
  }
}

const board = new BoardPage(document, window.location.href, { gone, renamed });
const stream = new Stream(document.getElementById('stream-state'), board.slug, Number(grid.dataset.lastEventId) || 0, {
  widget: (event) => board.onWidget(event),
  board: (change) => board.onChange(change),
  reset: () => board.refresh(true),
});
stream.start();
