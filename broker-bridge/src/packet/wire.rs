//! The primitive encodings (MQTT 3.1.1 §1.5, MQTT 5.0 §1.5): two- and four-byte integers,
//! length-prefixed strings and binary data, and the variable byte integer that encodes the
//! "remaining length" and, in MQTT 5.0, property lengths and subscription identifiers.

use super::DecodeError;

/// The largest value the four-byte variable-length integer can carry (§2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// A cursor over one packet's body. Every read is bounds-checked and reports
/// [`DecodeError::Truncated`] instead of panicking: the bytes come from the network.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        let hi = self.u8()?;
        let lo = self.u8()?;
        Ok(u16::from_be_bytes([hi, lo]))
    }

    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A variable byte integer (MQTT 5.0 §1.5.5): at most four bytes.
    pub fn var_int(&mut self) -> Result<u32, DecodeError> {
        let mut value = 0u32;
        for i in 0..4 {
            let byte = self.u8()?;
            value |= u32::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::MalformedVariableInteger)
    }

    /// The next `n` bytes as a reader of their own, so a block (such as a property list) cannot
    /// read past its announced length.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        Ok(Reader::new(self.take(n)?))
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated);
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.bytes[self.pos..];
        self.pos = self.bytes.len();
        out
    }

    pub fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()? as usize;
        self.take(len)
    }

    /// A UTF-8 string (§1.5.3): must be valid UTF-8 and must not contain U+0000.
    pub fn string(&mut self) -> Result<String, DecodeError> {
        let raw = self.binary()?;
        let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8)?;
        if s.contains('\0') {
            return Err(DecodeError::InvalidUtf8);
        }
        Ok(s.to_owned())
    }

    /// Fails if bytes are left over: a packet longer than its contents is malformed.
    pub fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// How many bytes `value` takes as a variable byte integer.
pub fn var_int_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

pub fn put_binary(out: &mut Vec<u8>, data: &[u8]) {
    // Callers check lengths before encoding (see `check_len`).
    put_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}

pub fn put_string(out: &mut Vec<u8>, s: &str) {
    put_binary(out, s.as_bytes());
}

/// Length-prefixed fields carry at most 65 535 bytes.
pub fn check_len(what: &'static str, len: usize) -> Result<(), super::EncodeError> {
    if len > u16::MAX as usize {
        return Err(super::EncodeError::FieldTooLong { what, len });
    }
    Ok(())
}

/// Writes a variable byte integer; the caller keeps `len` within [`MAX_REMAINING_LENGTH`].
pub fn put_remaining_length(out: &mut Vec<u8>, mut len: usize) {
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
}

/// Reads the remaining length that starts at `bytes[0]`. `Ok(None)` means more bytes are needed.
/// On success returns the length and how many bytes encoded it.
pub fn read_remaining_length(bytes: &[u8]) -> Result<Option<(usize, usize)>, DecodeError> {
    let mut value = 0usize;
    let mut multiplier = 1usize;
    for (i, &byte) in bytes.iter().enumerate() {
        if i == 4 {
            return Err(DecodeError::MalformedRemainingLength);
        }
        value += (byte & 0x7f) as usize * multiplier;
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
        multiplier *= 128;
    }
    if bytes.len() >= 4 {
        return Err(DecodeError::MalformedRemainingLength);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_length_boundaries_round_trip() {
        for (len, encoded_size) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (2_097_151, 3),
            (2_097_152, 4),
            (MAX_REMAINING_LENGTH, 4),
        ] {
            let mut out = Vec::new();
            put_remaining_length(&mut out, len);
            assert_eq!(out.len(), encoded_size, "size for {len}");
            assert_eq!(read_remaining_length(&out), Ok(Some((len, encoded_size))));
        }
    }

    #[test]
    fn remaining_length_needs_more_bytes_or_is_malformed() {
        assert_eq!(read_remaining_length(&[]), Ok(None));
        assert_eq!(read_remaining_length(&[0x80, 0x80]), Ok(None));
        assert_eq!(
            read_remaining_length(&[0x80, 0x80, 0x80, 0x80]),
            Err(DecodeError::MalformedRemainingLength)
        );
        assert_eq!(
            read_remaining_length(&[0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(DecodeError::MalformedRemainingLength)
        );
    }

    #[test]
    fn variable_integers_read_back_and_refuse_a_fifth_byte() {
        for value in [
            0u32,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            268_435_455,
        ] {
            let mut out = Vec::new();
            put_remaining_length(&mut out, value as usize);
            assert_eq!(out.len(), var_int_len(value as usize));
            let mut r = Reader::new(&out);
            assert_eq!(r.var_int(), Ok(value));
            assert_eq!(r.remaining(), 0);
        }
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x01]).var_int(),
            Err(DecodeError::MalformedVariableInteger)
        );
        assert_eq!(Reader::new(&[0x80]).var_int(), Err(DecodeError::Truncated));
    }

    #[test]
    fn sub_readers_stop_at_their_length() {
        let mut r = Reader::new(&[1, 2, 3]);
        let mut sub = r.sub(2).unwrap();
        assert_eq!(sub.u16(), Ok(0x0102));
        assert_eq!(sub.u8(), Err(DecodeError::Truncated));
        assert_eq!(r.u8(), Ok(3));
        assert_eq!(Reader::new(&[1]).sub(2).err(), Some(DecodeError::Truncated));
        assert_eq!(Reader::new(&[0, 0, 1, 0]).u32(), Ok(256));
    }

    #[test]
    fn strings_must_be_utf8_without_nul() {
        assert_eq!(Reader::new(&[0, 2, b'o', b'k']).string(), Ok("ok".into()));
        assert_eq!(
            Reader::new(&[0, 1, 0xff]).string(),
            Err(DecodeError::InvalidUtf8)
        );
        assert_eq!(
            Reader::new(&[0, 1, 0]).string(),
            Err(DecodeError::InvalidUtf8)
        );
        assert_eq!(
            Reader::new(&[0, 5, b'a']).string(),
            Err(DecodeError::Truncated)
        );
    }
}
