/** A QR code of a link as an SVG string (server-rendered, so the page needs no script for it). */
import QRCode from "qrcode";

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", margin: 2, errorCorrectionLevel: "M" });
}
