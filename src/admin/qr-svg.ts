import qrcode from 'qrcode-generator';
import { escapeHtml, raw, type Html } from '../web/html.ts';

/**
 * A QR code as inline SVG, drawn on the server: no script, no image request, and the strict CSP
 * holds (colours are SVG attributes, not styles). Error correction M (15 %) survives a phone
 * camera at an angle; a quiet zone of 4 modules is what scanners expect (ISO/IEC 18004 §6.3.8).
 */
export function qrSvg(text: string, label: string): Html {
  const code = qrcode(0, 'M');
  code.addData(text, 'Byte');
  code.make();
  const size = code.getModuleCount();
  const quiet = 4;
  let path = '';
  for (let row = 0; row < size; row++)
    for (let col = 0; col < size; col++)
      if (code.isDark(row, col)) path += `M${col + quiet} ${row + quiet}h1v1h-1z`;
  const total = size + 2 * quiet;
  return raw(`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${total} ${total}" width="240" height="240" role="img" aria-label="${escapeHtml(label)}" shape-rendering="crispEdges"><rect width="${total}" height="${total}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`);
}
