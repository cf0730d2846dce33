//! Numbers written in decimal without the formatting machinery: route texts and JSON reports
//! write hundreds of thousands of them.

/// The decimal digits of `n`: `buffer[start..]` of the returned `(buffer, start)`.
pub(crate) fn digits(mut n: u64) -> ([u8; 20], usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    (digits, at)
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_are_those_display_writes() {
        for n in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            let (digits, at) = super::digits(n);
            assert_eq!(&digits[at..], n.to_string().as_bytes());
        }
    }
}
