// Sound for screens that call out: a short chime through Web Audio and a sentence through the
// browser's speech synthesis. Browsers allow both only after a tap on the page, so a screen
// asks for that tap once (`unlock`) and shows whether sound is on (`soundOn`).

let unlocked = false;
let audio = null;

export const soundOn = () => unlocked;

/** Call from a tap: from then on the page may play and speak. */
export function unlock() {
  unlocked = true;
  try {
    const Context = globalThis.AudioContext || globalThis.webkitAudioContext;
    audio = audio || (Context ? new Context() : null);
    audio?.resume?.();
  } catch {
    audio = null;
  }
}

/** Two short rising notes: heard across a noisy kitchen before the words begin. */
export function chime() {
  if (!unlocked || !audio) return false;
  const start = audio.currentTime;
  [660, 880].forEach((hz, i) => {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = hz;
    gain.gain.setValueAtTime(0.25, start + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.001, start + i * 0.18 + 0.16);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + i * 0.18);
    tone.stop(start + i * 0.18 + 0.17);
  });
  return true;
}

/** Speaks `text` in Chinese (or English); false when sound is off or the browser cannot. */
export function say(text, lang = 'zh') {
  if (!unlocked || typeof speechSynthesis === 'undefined' || typeof SpeechSynthesisUtterance === 'undefined') return false;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = lang === 'en' ? 'en-US' : 'zh-CN';
  speechSynthesis.speak(utterance);
  return true;
}
