// A short message at the middle of the screen that fades by itself: "已加入购物车", "已催单".
// Styled by the page's own CSS (.toast); one at a time, the newest wins.

let timer;

export function toast(text, { ms = 1800 } = {}) {
  let el = document.querySelector('.toast');
  if (!el) {
    el = document.createElement('div');
    el.className = 'toast';
    el.setAttribute('role', 'status');
    el.setAttribute('aria-live', 'polite');
    document.body.append(el);
  }
  el.textContent = text;
  el.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => (el.hidden = true), ms);
}
