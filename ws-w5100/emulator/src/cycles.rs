//! Cortex-M0+ cycle counts of Thumb code (ARM Cortex-M0+ Technical Reference Manual,
//! 3.3 "Instruction set summary"), computed once per translated block and added up as the
//! blocks run.
//!
//! Timings: 1 cycle for data processing (MULS too: the SAMD21 has the single-cycle
//! multiplier), 2 for single loads and stores, 1 + N for LDM/STM/PUSH/POP of N registers
//! (3 + N for a POP that loads PC), 2 for B, BX and BLX, 3 for BL, MRS, MSR and the
//! barriers, and a conditional branch 1 when it falls through, 2 when taken (known when
//! the next block starts). Flash wait states are counted apart: the SAMD21 runs with one
//! at 48 MHz, and its NVM cache hides them on cache hits, so [`Cost::fetch_words`] gives
//! the upper bound (every 32-bit fetch from flash misses).

/// The cost of one straight run of code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Cycles with no wait states, conditional branches counted as not taken.
    pub cycles: u32,
    /// Instructions.
    pub instructions: u32,
    /// 32-bit words fetched (each a wait state when the cache misses).
    pub fetch_words: u32,
    /// If the block ends in a conditional branch: the address it falls through to.
    pub fallthrough: Option<u32>,
}

/// The cost of the block at `addr` whose code is `code` (little-endian halfwords).
pub fn block(addr: u32, code: &[u8]) -> Cost {
    let mut cost = Cost::default();
    let mut offset = 0usize;
    let mut last_conditional = false;
    while let Some(hw) = halfword(code, offset) {
        let (cycles, len, conditional) = instruction(hw);
        cost.cycles += cycles;
        cost.instructions += 1;
        offset += len;
        last_conditional = conditional;
    }
    let end = addr.wrapping_add(offset as u32);
    cost.fetch_words = (end.wrapping_add(3) / 4).wrapping_sub(addr / 4);
    if last_conditional {
        cost.fallthrough = Some(end);
    }
    cost
}

fn halfword(code: &[u8], offset: usize) -> Option<u16> {
    let bytes = code.get(offset..offset + 2)?;
    Some(u16::from_le_bytes([bytes[0], bytes[1]]))
}

/// (cycles, length in bytes, is a conditional branch) of the instruction starting `hw`.
fn instruction(hw: u16) -> (u32, usize, bool) {
    // 32-bit encodings: BL, MSR, MRS, DMB, DSB, ISB.
    if hw >> 11 >= 0b11101 {
        return (3, 4, false);
    }
    let registers = |list: u16| (list & 0xFF).count_ones();
    match hw >> 12 {
        // LDR literal.
        0b0100 if hw >> 11 == 0b01001 => (2, 2, false),
        0b0100 if hw >> 10 == 0b010001 => {
            let op = (hw >> 8) & 3;
            let rd = ((hw >> 4) & 8) | (hw & 7);
            match op {
                // BX / BLX.
                3 => (2, 2, false),
                // ADD / MOV to PC is a branch.
                0 | 2 if rd == 15 => (2, 2, false),
                _ => (1, 2, false),
            }
        }
        // Load/store register offset, immediate offset, halfword, SP-relative.
        0b0101..=0b1001 => (2, 2, false),
        0b1011 => match (hw >> 9) & 7 {
            // PUSH: 1 + N (LR included).
            0b010 => (1 + registers(hw) + u32::from(hw >> 8 & 1), 2, false),
            // POP: 1 + N, 3 + N with PC.
            0b110 => {
                if hw >> 8 & 1 != 0 {
                    (3 + registers(hw) + 1, 2, false)
                } else {
                    (1 + registers(hw), 2, false)
                }
            }
            _ => (1, 2, false),
        },
        // LDM / STM.
        0b1100 => (1 + registers(hw), 2, false),
        // Conditional branch (0xE is undefined, 0xF is SVC).
        0b1101 => {
            let cond = (hw >> 8) & 0xF;
            (1, 2, cond < 0xE)
        }
        // Unconditional branch.
        0b1110 => (2, 2, false),
        _ => (1, 2, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timings_of_common_instructions() {
        // movs r0, #1
        assert_eq!(instruction(0x2001), (1, 2, false));
        // ldr r0, [r1, #4]
        assert_eq!(instruction(0x6848), (2, 2, false));
        // push {r4-r7, lr}: 1 + 5
        assert_eq!(instruction(0xB5F0), (6, 2, false));
        // pop {r4-r7, pc}: 3 + 5
        assert_eq!(instruction(0xBDF0), (8, 2, false));
        // bne: 1 when not taken
        assert_eq!(instruction(0xD1FE), (1, 2, true));
        // b
        assert_eq!(instruction(0xE7FE), (2, 2, false));
        // bx lr
        assert_eq!(instruction(0x4770), (2, 2, false));
        // bl (first halfword)
        assert_eq!(instruction(0xF000), (3, 4, false));
    }

    #[test]
    fn a_block_adds_up() {
        // movs r0, #1; ldr r1, [r0]; bl <x> (4 bytes); beq <y>
        let code = [0x01, 0x20, 0x01, 0x68, 0x00, 0xF0, 0x00, 0xF8, 0x00, 0xD0];
        let cost = block(0x2000, &code);
        assert_eq!(cost.instructions, 4);
        assert_eq!(cost.cycles, 1 + 2 + 3 + 1);
        assert_eq!(cost.fetch_words, 3);
        assert_eq!(cost.fallthrough, Some(0x200A));
    }
}
