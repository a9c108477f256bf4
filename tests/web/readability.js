// Evaluated in the page by tests/web/checks.py: touch targets and text contrast.
(minTarget) => {
  const parse = (text) => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && el.closest("[hidden]") === null;
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const s = getComputedStyle(node);
      if (s.backgroundImage !== "none") return null;
      const c = parse(s.backgroundColor);
      if (c && c.a >= 0.99) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const problems = [];
  let texts = 0, skipped = 0;
  for (const el of document.querySelectorAll("button")) {
    if (!visible(el) || el.disabled) continue;
    const r = el.getBoundingClientRect();
    if (r.width < minTarget - 0.5 || r.height < minTarget - 0.5) {
      problems.push(`button "${el.textContent.trim().slice(0, 30)}" is ${r.width.toFixed(0)}x${r.height.toFixed(0)} px`);
    }
  }
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el) || el.closest(":disabled")) continue;
    const bg = background(el);
    if (!bg) { skipped += 1; continue; }
    const fg = parse(getComputedStyle(el).color);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    texts += 1;
    if (ratio < 4.5) problems.push(`"${el.textContent.trim().slice(0, 30)}" has contrast ${ratio.toFixed(2)}:1`);
  }
  return { problems, texts, skipped };
}
