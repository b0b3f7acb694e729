// Reading QR codes: the browser's BarcodeDetector where it reads QR codes (Chrome on
// Android and macOS, Safari), else the vendored jsQR (plain JavaScript, loaded only then).

let detector;
let jsQRLoaded;
const canvas = document.createElement('canvas');
const context = canvas.getContext('2d', { willReadFrequently: true });
/** Photos are scaled down to this many pixels on their long side before jsQR reads them:
 * a ticket fills much of the frame, and jsQR's time grows with the pixel count. */
const MAX_SIDE = 1280;

async function barcodeDetector() {
  if (detector !== undefined) return detector;
  detector = null;
  if ('BarcodeDetector' in self) {
    try {
      if ((await self.BarcodeDetector.getSupportedFormats()).includes('qr_code')) {
        detector = new self.BarcodeDetector({ formats: ['qr_code'] });
      }
    } catch {
      detector = null;
    }
  }
  return detector;
}

function jsQR() {
  jsQRLoaded ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/door/jsQR.js';
    script.onload = () => resolve(self.jsQR);
    script.onerror = () => reject(new Error('the QR decoder did not load'));
    document.head.append(script);
  });
  return jsQRLoaded;
}

/** Which decoder reads codes here: 'BarcodeDetector' or 'jsQR'. */
export async function decoderName() {
  return (await barcodeDetector()) ? 'BarcodeDetector' : 'jsQR';
}

/** The text of a QR code in `source` (a video, image or ImageBitmap of `width` ×
 * `height` pixels), or null when there is none. */
export async function decode(source, width, height, { invert = true } = {}) {
  const native = await barcodeDetector();
  if (native) {
    const codes = await native.detect(source);
    return codes.length ? codes[0].rawValue : null;
  }
  const read = await jsQR();
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  const code = read(image.data, image.width, image.height, {
    inversionAttempts: invert ? 'attemptBoth' : 'dontInvert',
  });
  return code ? code.data : null;
}

/** The text of a QR code in an image file (a photo of a ticket), or null. */
export async function decodeFile(file) {
  const bitmap = await createImageBitmap(file);
  try {
    return await decode(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** Starts the back camera in `video` and calls `onText` with each code it sees (the same
 * code again only after `repeatMs`). Returns a function that stops the camera. */
export async function startCamera(video, onText, repeatMs = 3000) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: 'environment' },
    audio: false,
  });
  video.srcObject = stream;
  await video.play();
  let stopped = false;
  let last = null;
  let lastAt = 0;
  const look = async () => {
    if (stopped) return;
    if (video.readyState >= 2) {
      const text = await decode(video, video.videoWidth, video.videoHeight, { invert: false }).catch(() => null);
      if (text && (text !== last || Date.now() - lastAt > repeatMs)) {
        last = text;
        lastAt = Date.now();
        onText(text);
      }
    }
    setTimeout(look, 150);
  };
  look();
  return () => {
    stopped = true;
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
  };
}
