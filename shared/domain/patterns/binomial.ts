/**
 * Exact tail probabilities for the pattern detectors (docs/design.md §2.6). Evidence that goes to a case
 * officer must not rest on a normal approximation in the far tail, so the binomial tail is summed
 * exactly in log space; the normal quantile is only used for funnel-plot limits.
 */

const LOG_FACTORIAL_CACHE: number[] = [0];

/** ln(n!) for a non-negative integer n (exact sum up to 10,000, Stirling's series beyond). */
export function logFactorial(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`logFactorial of ${n}`);
  if (n < LOG_FACTORIAL_CACHE.length) return LOG_FACTORIAL_CACHE[n];
  if (n <= 10_000) {
    for (let i = LOG_FACTORIAL_CACHE.length; i <= n; i++)
      LOG_FACTORIAL_CACHE[i] = LOG_FACTORIAL_CACHE[i - 1] + Math.log(i);
    return LOG_FACTORIAL_CACHE[n];
  }
  const x = n + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return 0;
  if (p <= 0) return k === 0 ? 1 : 0;
  if (p >= 1) return k === n ? 1 : 0;
  return Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/**
 * P(X ≥ k) for X ~ Binomial(n, p): the chance of at least k "hits" in n sessions when each is a hit
 * with probability p. Summed term by term from k upwards (the terms fall quickly past the mean).
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 0) throw new RangeError(`binomial tail of ${k} in ${n}`);
  if (p < 0 || p > 1 || Number.isNaN(p)) throw new RangeError(`binomial probability ${p}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  // Below the mean the upper tail is large: compute it as 1 − the (short) lower tail instead.
  if (k <= n * p) {
    let lower = 0;
    for (let i = 0; i < k; i++) lower += binomialPmf(i, n, p);
    return Math.min(1, Math.max(0, 1 - lower));
  }
  let sum = 0;
  for (let i = k; i <= n; i++) {
    const term = binomialPmf(i, n, p);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, sum);
}

/**
 * The standard normal quantile (inverse CDF): Acklam's rational approximation refined by one Halley
 * step against `normalCdf`; accurate to about 1e-7, ample for control limits (99.8 % two-sided: 3.090).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normal quantile of ${p}`);
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Standard normal CDF via the complementary error function. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc (Chebyshev fit): fractional error below 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** "1 in 3,000,000"-style wording for a small probability, rounded to two significant figures. */
export function oneIn(p: number): string {
  if (p <= 0) return 'less than 1 in a billion';
  const n = 1 / p;
  if (n >= 1e9) return 'less than 1 in a billion';
  if (n < 2) return `${Math.round(p * 100)} in 100`;
  const digits = Math.floor(Math.log10(n)) - 1;
  const rounded = digits > 0 ? Math.round(n / 10 ** digits) * 10 ** digits : Math.round(n);
  return `1 in ${rounded.toLocaleString('en-GB')}`;
}

/**
 * P(X ≥ k) for X hypergeometric: `draws` items drawn without replacement from `population` items of
 * which `successes` are marked. Exact (a sum of at most min(draws, successes) terms).
 */
export function hypergeometricUpperTail(k: number, population: number, successes: number, draws: number): number {
  const hi = Math.min(successes, draws);
  const lo = Math.max(0, draws - (population - successes));
  if (k <= lo) return 1;
  if (k > hi) return 0;
  const denominator = logChoose(population, draws);
  let p = 0;
  for (let x = k; x <= hi; x++)
    p += Math.exp(logChoose(successes, x) + logChoose(population - successes, draws - x) - denominator);
  return Math.min(1, p);
}
