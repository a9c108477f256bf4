// Spoken prompts: only where the browser offers a voice for the language on
// screen (a Chinese one for zh-CN). Without one the kiosk stays silent
// rather than reading Chinese with an English voice.

const VOICE_LANG = { zh: /^zh[-_](CN|Hans)/i, en: /^en([-_]|$)/i };
let voices = [];

export function initSpeech() {
  if (!("speechSynthesis" in window)) return;
  const load = () => {
    voices = window.speechSynthesis.getVoices();
  };
  load();
  window.speechSynthesis.addEventListener?.("voiceschanged", load);
}

export function voiceFor(language) {
  const pattern = VOICE_LANG[language];
  return voices.find((voice) => pattern && pattern.test(voice.lang)) ?? null;
}

export function speak(text, language) {
  const voice = voiceFor(language);
  if (!voice || !text) return false;
  window.speechSynthesis.cancel();
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.voice = voice;
  utterance.lang = voice.lang;
  window.speechSynthesis.speak(utterance);
  return true;
}
