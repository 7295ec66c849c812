// Starred dishes (收藏). A guest's stars live on the phone, per brand; a signed-in diner's live on
// the server, and stars made as a guest are handed over the next time the app sees a session,
// so nothing starred is lost by signing in.

import { get, post, del } from '../shared/api.js';

let brandId = null;
let stars = new Set();
// Stars made while not signed in, still to be handed to the server.
let pending = new Set();
let signedIn = false;
let changed = () => {};

const storageKey = () => `diancan.favourites.${brandId}`;

function readLocal() {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey()) || '{}');
    stars = new Set(saved.ids || []);
    pending = new Set(saved.pending || []);
  } catch {
    stars = new Set();
    pending = new Set();
  }
}

function writeLocal() {
  try {
    localStorage.setItem(storageKey(), JSON.stringify({ ids: [...stars], pending: [...pending] }));
  } catch {
    // Private mode: stars last for this visit.
  }
}

/**
 * Loads the stars for `brand`; `onChange` runs whenever they change. `known(id)` says whether a
 * dish is on the menu, so stars of dishes the brand has since removed are not sent back.
 */
export async function load(brand, known, onChange) {
  brandId = brand;
  changed = onChange;
  readLocal();
  try {
    let server = await get('customer/favourites');
    signedIn = true;
    const handOver = [...pending].filter((id) => known(id) && !server.dish_ids.includes(id));
    if (handOver.length) server = await post('customer/favourites', { dish_ids: handOver });
    stars = new Set(server.dish_ids);
    pending = new Set();
  } catch {
    signedIn = false;
  }
  writeLocal();
  changed();
}

export const has = (dishId) => stars.has(dishId);
export const list = () => [...stars];

/** Stars or unstars a dish; resolves to whether it is starred now. */
export async function toggle(dishId) {
  const starring = !stars.has(dishId);
  const apply = (on) => {
    if (on) stars.add(dishId);
    else stars.delete(dishId);
    if (!signedIn) {
      if (on) pending.add(dishId);
      else pending.delete(dishId);
    }
    writeLocal();
    changed();
  };
  apply(starring);
  if (!signedIn) return starring;
  try {
    if (starring) await post('customer/favourites', { dish_ids: [dishId] });
    else await del(`customer/favourites/${encodeURIComponent(dishId)}`);
  } catch (error) {
    if (error.status === 401) {
      // Signed out elsewhere: keep the star on the phone and hand it over later.
      signedIn = false;
      apply(starring);
      return starring;
    }
    apply(!starring);
    throw error;
  }
  return starring;
}
