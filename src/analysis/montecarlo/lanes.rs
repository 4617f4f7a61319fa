//! Per-datapoint gradients of a whole group of particles at once: g[l] = g_{j[l]}(W[l]),
//! the SGD hot loop of the particle engine.
//!
//! A built-in landscape declares its closed form ([`Form`]); its gradients are then
//! evaluated here in straight-line code over structure-of-arrays slices (one slice of
//! positions, one of drawn datapoint indices), which the compiler vectorises: no call
//! through the [`Landscape`] trait or a closure per particle step, no branch on the
//! datapoint (every lane computes every term and selects), and a branch-free e^x
//! ([`exp`]) in place of the C library's. Any other landscape goes through
//! [`Landscape::grad`] once per particle step ([`Dynamic`]).
//!
//! e^x is Cody–Waite range reduction x = n ln 2 + r, |r| ≤ ln 2 / 2 (with ln 2 split in
//! a high part exact in n·ln2_hi and a low part, as in Sun's fdlibm, 1993), a degree-13
//! Taylor polynomial for e^r (truncation below 10⁻¹⁷ relative) evaluated by Estrin's
//! scheme in fused multiply-adds (a short dependency chain, half the operations of
//! separate multiplies and adds; Knuth, TAOCP vol. 2, §4.6.4) and 2ⁿ put into the
//! exponent bits: within a few units in the last place of the C library's e^x, so these
//! gradients agree with [`Landscape::grad`] to a few ulp but not bit for bit. Results
//! below e^{−708} are flushed to 0 (a gradient of 10⁻³⁰⁸ moves nothing).

use rand::{Rng, RngExt};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::model::landscape::Landscape;

/// Uniform datapoint indices in 0..n into every slot of `j`, from `rng` in slot order:
/// for n = 2^b (b ≤ 16) b bits of one 64-bit draw per slot (⌊64/b⌋ slots per draw;
/// xoshiro256++'s bits are all of full quality), otherwise one unbiased bounded draw
/// per slot.
#[inline(always)]
pub fn draw_indices(rng: &mut Xoshiro256PlusPlus, n: usize, j: &mut [u32]) {
    if n.is_power_of_two() && n <= 1 << 16 {
        let b = n.trailing_zeros() as usize;
        if b == 0 {
            j.fill(0);
            return;
        }
        let mask = (n - 1) as u64;
        for chunk in j.chunks_mut(64 / b) {
            let x = rng.next_u64();
            for (i, j) in chunk.iter_mut().enumerate() {
                *j = ((x >> (b * i)) & mask) as u32;
            }
        }
    } else {
        for j in j {
            *j = rng.random_range(0..n as u32);
        }
    }
}

/// e^x for x ≤ 709 (the Gaussian factors of the built-in landscapes take x ≤ 0),
/// branch-free so that loops over it vectorise; 0 below x = −708; NaN stays NaN.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // adding 1.5·2⁵² rounds to an integer and leaves it in the low mantissa bits
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let xc = x.clamp(-708.0, 709.0);
    let t = xc * LOG2E + SHIFT;
    let n = t - SHIFT;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // the Taylor polynomial by Estrin's scheme (pairs, then pairs of pairs in r², r⁴,
    // r⁸: a dependency chain of four levels instead of Horner's thirteen) in fused
    // multiply-adds, each one correctly rounded operation on every path
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let p01 = 1.0 + r;
    let p23 = r.mul_add(1.0 / 6.0, 0.5);
    let p45 = r.mul_add(1.0 / 120.0, 1.0 / 24.0);
    let p67 = r.mul_add(1.0 / 5_040.0, 1.0 / 720.0);
    let p89 = r.mul_add(1.0 / 362_880.0, 1.0 / 40_320.0);
    let p1011 = r.mul_add(1.0 / 39_916_800.0, 1.0 / 3_628_800.0);
    let p1213 = r.mul_add(1.0 / 6_227_020_800.0, 1.0 / 479_001_600.0);
    let q03 = r2.mul_add(p23, p01);
    let q47 = r2.mul_add(p67, p45);
    let q811 = r2.mul_add(p1011, p89);
    let q07 = r4.mul_add(q47, q03);
    let q813 = r4.mul_add(p1213, q811);
    let p = r8.mul_add(q813, q07);
    let ni = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let scale = f64::from_bits((ni.wrapping_add(1023) as u64) << 52);
    let y = p * scale;
    if x < -708.0 {
        0.0
    } else {
        y
    }
}

/// Gradients of a group of particles: `acc[l] += g_{j[l]}(w[l])` for every lane l.
pub trait Gradients {
    /// Add the gradient of datapoint `j[l]` at `w[l]` to `acc[l]` (equal lengths).
    fn add(&self, j: &[u32], w: &[f64], acc: &mut [f64]);
}

/// `bulk.add(j, w, acc)`, compiled for 512-bit vectors (AVX-512: eight lanes per
/// instruction) or 256-bit ones (AVX2: four) when the processor has them, instead of
/// SSE2's two. The arithmetic is the same IEEE operations either way (the fused
/// multiply-adds of [`exp`] are explicit, each one correctly rounded operation in
/// hardware or in software, and no other product is fused), so the results are
/// bit-identical on every path.
#[inline(always)]
pub fn add<G: Gradients>(bulk: &G, j: &[u32], w: &[f64], acc: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("fma")
    {
        // SAFETY: `add_avx512` only requires AVX-512F and FMA, detected just above.
        unsafe { add_avx512(bulk, j, w, acc) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: `add_avx2` only requires AVX2 and FMA, which were detected just above.
        unsafe { add_avx2(bulk, j, w, acc) };
        return;
    }
    bulk.add(j, w, acc);
}

/// [`Gradients::add`] inlined into a function compiled with AVX2 and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn add_avx2<G: Gradients>(bulk: &G, j: &[u32], w: &[f64], acc: &mut [f64]) {
    bulk.add(j, w, acc);
}

/// [`Gradients::add`] inlined into a function compiled with AVX-512F and FMA enabled.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn add_avx512<G: Gradients>(bulk: &G, j: &[u32], w: &[f64], acc: &mut [f64]) {
    bulk.add(j, w, acc);
}

/// The built-in seed landscape: g_0 = 2(W−2)e^{−(W−2)²}, g_1 = g_0 + 2k(W−1)e^{−k(W−1)²}.
pub struct Seed {
    /// Pit sharpness.
    pub k: f64,
}

impl Gradients for Seed {
    #[inline(always)]
    fn add(&self, j: &[u32], w: &[f64], acc: &mut [f64]) {
        let k = self.k;
        for ((a, &w), &j) in acc.iter_mut().zip(w).zip(j) {
            let x = w - 2.0;
            let wide = 2.0 * x * exp(-(x * x));
            let y = w - 1.0;
            let pit = 2.0 * k * y * exp(-k * (y * y));
            *a += wide + if j == 1 { pit } else { 0.0 };
        }
    }
}

/// The built-in Ornstein–Uhlenbeck landscape: g_{0,1} = c(W − m) ± a.
pub struct Ou {
    /// Curvature, minimum and noise amplitude.
    pub c: f64,
    /// Minimum.
    pub m: f64,
    /// Noise amplitude.
    pub a: f64,
}

impl Gradients for Ou {
    #[inline(always)]
    fn add(&self, j: &[u32], w: &[f64], acc: &mut [f64]) {
        for ((a, &w), &j) in acc.iter_mut().zip(w).zip(j) {
            let s = if j == 0 { self.a } else { -self.a };
            *a += self.c * (w - self.m) + s;
        }
    }
}

/// The built-in spreading landscape: g_{0,1} = ±a.
pub struct Spreading {
    /// Gradient magnitude.
    pub a: f64,
}

impl Gradients for Spreading {
    #[inline(always)]
    fn add(&self, j: &[u32], _w: &[f64], acc: &mut [f64]) {
        for (a, &j) in acc.iter_mut().zip(j) {
            *a += if j == 0 { self.a } else { -self.a };
        }
    }
}

/// The built-in vanishing-noise landscape: g_0 = 2(W − 1), g_1 = 0.
pub struct VanishingNoise;

impl Gradients for VanishingNoise {
    #[inline(always)]
    fn add(&self, j: &[u32], w: &[f64], acc: &mut [f64]) {
        for ((a, &w), &j) in acc.iter_mut().zip(w).zip(j) {
            *a += if j == 0 { 2.0 * (w - 1.0) } else { 0.0 };
        }
    }
}

/// Any landscape, through [`Landscape::grad`] per particle step.
pub struct Dynamic<'a>(pub &'a dyn Landscape);

impl Gradients for Dynamic<'_> {
    #[inline(always)]
    fn add(&self, j: &[u32], w: &[f64], acc: &mut [f64]) {
        for ((a, &w), &j) in acc.iter_mut().zip(w).zip(j) {
            *a += self.0.grad(j as usize, w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::landscape::Form;
    use crate::model::landscape::{ou_landscape, seed_landscape, vanishing_noise_landscape};

    #[test]
    fn exp_within_a_few_ulp_of_the_c_library() {
        let mut worst = 0.0f64;
        for i in 0..200_001 {
            let x = -700.0 + 705.0 * i as f64 / 200_000.0;
            let (e, f) = (exp(x), x.exp());
            worst = worst.max(((e - f) / f).abs());
        }
        assert!(worst < 4.0 * f64::EPSILON, "worst relative error {worst:e}");
        assert!(exp(-800.0) == 0.0 && exp(f64::NAN).is_nan());
        assert!((exp(0.0) - 1.0).abs() <= f64::EPSILON);
    }

    fn agree(land: &dyn Landscape, g: &dyn Gradients) {
        let n = land.len() as u32;
        let ws: Vec<f64> = (0..301).map(|i| -0.5 + 4.0 * i as f64 / 300.0).collect();
        for j in 0..n {
            let js = vec![j; ws.len()];
            let mut acc = vec![0.0; ws.len()];
            g.add(&js, &ws, &mut acc);
            for (&w, &a) in ws.iter().zip(&acc) {
                let want = land.grad(j as usize, w);
                let tol = 8.0 * f64::EPSILON * (want.abs() + 2.0 * 100.0f64.sqrt());
                assert!((a - want).abs() <= tol, "j {j} w {w}: {a} vs {want}");
            }
        }
    }

    #[test]
    fn closed_forms_agree_with_the_closures() {
        agree(&seed_landscape(100.0), &Seed { k: 100.0 });
        agree(
            &ou_landscape(1.5, 0.2, 0.7),
            &Ou {
                c: 1.5,
                m: 0.2,
                a: 0.7,
            },
        );
        agree(&vanishing_noise_landscape(), &VanishingNoise);
        assert_eq!(seed_landscape(3.0).form(), Some(Form::Seed { k: 3.0 }));
        let changed = seed_landscape(3.0).datapoint("w", |w| w, |_| 1.0, |_| 0.0);
        assert_eq!(changed.form(), None);
    }
}
