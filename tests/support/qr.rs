//! Reading ticket images as a door scanner does.

/// What a phone camera reads from the ticket image `png`: the payload of its one QR code.
/// Panics when it is not a PNG or does not hold exactly one readable code.
pub fn scan_qr(png: &[u8]) -> String {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let image = image::load_from_memory(png)
        .expect("a decodable image")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the ticket");
    let (_, payload) = grids[0].decode().expect("a readable QR code");
    payload
}
