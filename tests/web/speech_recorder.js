// A stand-in voice for headless Chromium (it has none): offers zh-CN, records what is spoken.
window.__spoken = [];
const voice = { lang: "zh-CN", name: "recorder", voiceURI: "recorder", localService: true, default: true };
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
Object.defineProperty(window, "speechSynthesis", { value: {
  getVoices: () => [voice], speak: (u) => window.__spoken.push(u.text), cancel: () => {},
  addEventListener: () => {},
} });
