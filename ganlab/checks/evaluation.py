"""Checks of lesson 03, evaluating GANs: ``matrix_square_root``, ``frechet_distance``,
``inception_score``, ``kernel_distance``."""

from __future__ import annotations

import math

import numpy as np

from ganlab.checks.common import (
    Mistake,
    _close,
    _expect_value,
    _float_result,
    run_check,
)


# --- lesson 03: evaluating GANs ----------------------------------------------------------
#
# The four exercises are NumPy functions on feature arrays. Their references are
# ganlab.metrics.matrix_sqrt, frechet_distance, inception_score and squared_mmd
# (KID on whole sets). Each check first tries a small example whose answer can be
# worked out by hand, then diagnoses a wrong answer by comparing it with the
# values that the typical mistakes give on the same example.


def _symmetric_square_root(matrix):
    from ganlab import metrics

    return metrics.matrix_sqrt(matrix)


def check_matrix_square_root(matrix_square_root, verbose=True):
    """Checks ``matrix_square_root(matrix)`` for symmetric positive semi-definite matrices.

    Catches: the square root of each entry (right only for diagonal
    matrices), eigenvectors not transposed on the right (``V D V`` instead of
    ``V D V^T``), eigenvalues not clipped at 0 (NaN for a singular covariance),
    a complex result (``scipy.linalg.sqrtm``), a wrong shape.
    """

    def body(matrix_square_root, report):
        diagonal = np.diag([4.0, 9.0])
        got = _to_square_root(matrix_square_root, diagonal)
        if not np.allclose(got, np.diag([2.0, 3.0]), atol=1e-6):
            raise Mistake(
                f"the square root of diag(4, 9) is diag(2, 3); got {np.round(got, 4).tolist()}.",
                "with w, V = np.linalg.eigh(matrix): V @ np.diag(np.sqrt(w)) @ V.T.",
            )
        report.ok("the square root of a diagonal matrix is the square root of its diagonal.")

        # Eigenvectors that are not symmetric as a matrix, so that V D V != V D V^T.
        matrix = np.array([[5.0, 2.0, 0.0], [2.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
        expected = _symmetric_square_root(matrix)
        got = _to_square_root(matrix_square_root, matrix)
        if not np.allclose(got, expected, atol=1e-5):
            eigenvalues, eigenvectors = np.linalg.eigh(matrix)
            untransposed = eigenvectors @ np.diag(np.sqrt(eigenvalues)) @ eigenvectors
            transposed_first = eigenvectors.T @ np.diag(np.sqrt(eigenvalues)) @ eigenvectors
            if np.allclose(got, np.sqrt(matrix), atol=1e-5):
                problem = "you took the square root of every entry"
                hint = (
                    "a matrix square root R satisfies R @ R = A, and np.sqrt(A) does not (except for diagonal "
                    "matrices). Use the eigendecomposition: w, V = np.linalg.eigh(A); V @ np.diag(np.sqrt(w)) @ V.T."
                )
            elif np.allclose(got, untransposed, atol=1e-5):
                problem = "the eigenvectors on the right are not transposed (V D V instead of V D V^T)"
                hint = "A = V diag(w) V^T, so sqrt(A) = V @ np.diag(np.sqrt(w)) @ V.T."
            elif np.allclose(got, transposed_first, atol=1e-5):
                problem = "the transpose is on the wrong side (V^T D V instead of V D V^T)"
                hint = "np.linalg.eigh returns the eigenvectors as the columns of V: V @ np.diag(np.sqrt(w)) @ V.T."
            else:
                problem = "your result R does not satisfy R @ R = A"
                hint = "w, V = np.linalg.eigh(A); return V @ np.diag(np.sqrt(w)) @ V.T."
            raise Mistake(
                f"{problem}. For A = {matrix.tolist()}, R @ R should give A back; your R @ R is "
                f"{np.round(got @ got, 3).tolist()}.",
                hint,
            )
        report.ok("R @ R gives A back for a symmetric matrix with off-diagonal entries.")

        # A singular covariance whose zero eigenvalue comes out of eigh a hair
        # below zero, as rounding makes it happen with real features.
        rotation, _ = np.linalg.qr(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [1.5, 0.2, 1.0]]))
        singular = rotation @ np.diag([2.0, 1.0, -1e-12]) @ rotation.T
        singular = (singular + singular.T) / 2.0
        got = _to_square_root(matrix_square_root, singular)
        if not np.all(np.isfinite(got)):
            raise Mistake(
                "for a singular covariance (an eigenvalue of 0 that rounding computes as -1e-12) "
                "your square root holds NaN.",
                "clip the eigenvalues at zero before the square root: np.sqrt(np.clip(w, 0, None)). "
                "Covariances are never negative definite; a tiny negative eigenvalue is rounding.",
            )
        if not np.allclose(got, _symmetric_square_root(singular), atol=1e-5):
            raise Mistake(
                "for a singular covariance your square root is wrong: R @ R = "
                f"{np.round(got @ got, 3).tolist()}; expected {np.round(singular, 3).tolist()}.",
                "clip the eigenvalues at zero: V @ np.diag(np.sqrt(np.clip(w, 0, None))) @ V.T.",
            )
        report.ok("a singular covariance (rounding makes an eigenvalue -1e-12) gives a real, finite result.")

    return run_check("matrix_square_root", matrix_square_root, body, verbose)


def _to_square_root(matrix_square_root, matrix):
    result = matrix_square_root(matrix.copy())
    if result is None:
        raise Mistake("matrix_square_root returned None.", "end the function with `return ...`.")
    array = np.asarray(result)
    if np.iscomplexobj(array):
        raise Mistake(
            "your square root is complex-valued.",
            "for a symmetric matrix use np.linalg.eigh (real eigenvalues and eigenvectors), not "
            "np.linalg.eig or scipy.linalg.sqrtm, and clip the eigenvalues at 0.",
        )
    if array.shape != matrix.shape:
        raise Mistake(
            f"the square root of a {matrix.shape[0]}x{matrix.shape[1]} matrix must have its shape; "
            f"got shape {array.shape}.",
            "V @ np.diag(np.sqrt(w)) @ V.T is again a square matrix.",
        )
    return array.astype(np.float64)


def _frechet_variants(features_a, features_b):
    """FID and the values of its typical mistakes, each with a diagnosis and a hint."""
    from ganlab import metrics

    def fid(mean_a, cov_a, mean_b, cov_b, factor=2.0, with_mean=True):
        root_a = metrics.matrix_sqrt(cov_a)
        trace_root = np.trace(metrics.matrix_sqrt(root_a @ cov_b @ root_a))
        mean_term = np.sum((mean_a - mean_b) ** 2) if with_mean else 0.0
        return float(mean_term + np.trace(cov_a) + np.trace(cov_b) - factor * trace_root)

    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    right = fid(mean_a, cov_a, mean_b, cov_b)
    biased_a, biased_b = np.cov(features_a, rowvar=False, bias=True), np.cov(features_b, rowvar=False, bias=True)
    cov_hint = "np.cov(features, rowvar=False): each row is a sample, each column a feature."
    variants = [
        (
            fid(mean_a, cov_a, mean_b, cov_b, factor=1.0),
            "the trace term is missing its factor 2",
            "FID = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)).",
        ),
        (
            fid(mean_a, cov_a, mean_b, cov_b, with_mean=False),
            "the mean term ||mu_a - mu_b||^2 is missing",
            "add np.sum((mu_a - mu_b) ** 2), with mu = features.mean(axis=0).",
        ),
        (
            fid(mean_a, biased_a, mean_b, biased_b),
            "your covariances divide by N instead of N - 1",
            "np.cov(features, rowvar=False) divides by N - 1 (the unbiased estimate), as FID's code does.",
        ),
        (
            fid(mean_a, cov_a, mean_b, cov_b) + np.sum((mean_a - mean_b) ** 2),
            "the mean term is counted twice",
            "FID has ||mu_a - mu_b||^2 once.",
        ),
    ]
    if features_a.shape[0] == features_b.shape[0]:
        # Covariance over the wrong axis: N x N "covariances" of samples, and means per sample.
        variants.append(
            (
                fid(features_a.mean(axis=1), np.cov(features_a), features_b.mean(axis=1), np.cov(features_b)),
                "your covariance (and mean) run over the wrong axis: they are N x N, one entry per pair of samples",
                cov_hint,
            )
        )
        variants.append(
            (
                fid(mean_a, np.cov(features_a), mean_b, np.cov(features_b)),
                "your covariances run over the wrong axis: they are N x N, one entry per pair of samples",
                cov_hint,
            )
        )
    return right, variants


def _call_frechet(frechet_distance, features_a, features_b):
    try:
        value = frechet_distance(features_a.copy(), features_b.copy())
    except ValueError as error:
        if "symmetric" in str(error):
            raise Mistake(
                "your FID passes a matrix that is not symmetric to the square root (the product S_a @ S_b "
                "is not symmetric).",
                "Tr((S_a S_b)^(1/2)) = Tr(square_root(R S_b R)) with R = square_root(S_a): R S_b R is "
                "symmetric positive semi-definite and has the same eigenvalues as S_a S_b.",
            ) from None
        raise
    return _float_result(value, "frechet_distance")


def check_frechet_distance(frechet_distance, verbose=True):
    """Checks ``frechet_distance(features_a, features_b)`` (FID on two ``(N, D)`` arrays).

    Catches: the factor 2 missing from the trace term, the mean term missing,
    covariances over the wrong axis or divided by N, a complex result or NaN
    (the naive square root of the non-symmetric product ``S_a S_b``), a
    distance that is not 0 between identical sets or not symmetric.
    """

    def body(frechet_distance, report):
        # Worked out by hand: a has mean (0, 0) and covariance 4/3 I; b = 2 a + (3, 4)
        # has mean (3, 4) and covariance 16/3 I. FID = 25 + 2 (2/sqrt(3) - 4/sqrt(3))^2 = 25 + 8/3.
        features_a = np.array([[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
        features_b = 2.0 * features_a + np.array([3.0, 4.0])
        right, variants = _frechet_variants(features_a, features_b)
        got = _call_frechet(frechet_distance, features_a, features_b)
        _expect_value(
            got,
            right,
            variants,
            "FID of two small sets worked out by hand (mean term 25, covariance term 8/3)",
            "FID = ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)), with "
            "mu = features.mean(axis=0) and S = np.cov(features, rowvar=False).",
        )
        report.ok("FID of two small sets worked out by hand: 25 + 8/3 = 27.667.")

        random_generator = np.random.default_rng(3)
        mixing = random_generator.normal(size=(4, 4))
        features_a = random_generator.normal(size=(40, 4)) @ mixing
        features_b = random_generator.normal(size=(40, 4)) @ (mixing + 0.5) + 1.0
        right, variants = _frechet_variants(features_a, features_b)
        got = _call_frechet(frechet_distance, features_a, features_b)
        _expect_value(
            got,
            right,
            variants,
            "FID of two sets with correlated features (covariances not diagonal)",
            "Tr((S_a S_b)^(1/2)) = Tr(square_root(R @ S_b @ R)) with R = square_root(S_a).",
        )
        reverse = _call_frechet(frechet_distance, features_b, features_a)
        if not _close(reverse, got, 1e-4):
            raise Mistake(
                f"FID must be symmetric: frechet_distance(a, b) = {got:.6g} but "
                f"frechet_distance(b, a) = {reverse:.6g}.",
                "use both covariances the same way: Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)).",
            )
        report.ok("correlated features (non-diagonal covariances); the same value with a and b swapped.")

        same = _call_frechet(frechet_distance, features_a, features_a)
        if not abs(same) <= 1e-6 * max(1.0, right):
            raise Mistake(
                f"the FID of a set with itself should be 0; got {same:.6g}.",
                "identical means and covariances: Tr(S + S - 2 (S S)^(1/2)) = Tr(2S - 2S) = 0.",
            )
        report.ok("the FID of a set with itself is 0.")

        # Fewer samples than features: singular covariances, as with 128 features
        # and 100 samples. The naive sqrtm(S_a @ S_b) goes complex or NaN here.
        features_a = random_generator.normal(size=(5, 8))
        features_b = random_generator.normal(size=(5, 8)) + 0.5
        right, variants = _frechet_variants(features_a, features_b)
        got = _call_frechet(frechet_distance, features_a, features_b)
        if not math.isfinite(got):
            raise Mistake(
                f"with 5 samples of 8 features (singular covariances) your FID is {got}.",
                "clip negative eigenvalues at 0 in the square root, and take the square root of the "
                "symmetric R @ S_b @ R (R = square_root(S_a)) rather than of S_a @ S_b.",
            )
        _expect_value(
            got,
            right,
            variants,
            "FID with 5 samples of 8 features (singular covariances)",
            "take the square root of the symmetric R @ S_b @ R (R = square_root(S_a)), "
            "not of S_a @ S_b, whose square root rounding can make complex.",
        )
        report.ok("singular covariances (fewer samples than features) give a finite, real FID.")

    return run_check("frechet_distance", frechet_distance, body, verbose)


def _inception_variants(probabilities):
    """IS and the values of its typical mistakes (with an epsilon, so that every variant is finite)."""
    from ganlab import metrics

    epsilon = 1e-12
    p = probabilities + epsilon
    marginal = p.mean(axis=0, keepdims=True)
    divergence = (p * (np.log(p) - np.log(marginal))).sum(axis=1)
    reversed_divergence = (marginal * (np.log(marginal) - np.log(p))).sum(axis=1)
    per_sample_marginal = p.mean(axis=1, keepdims=True)
    wrong_axis = (p * (np.log(p) - np.log(per_sample_marginal))).sum(axis=1)
    right = metrics.inception_score(probabilities)
    return right, [
        (
            float(divergence.mean()),
            "the exp is missing: you returned log(IS), the mean KL divergence",
            "IS = exp(mean over x of KL(p(y|x) || p(y))): finish with np.exp(...).",
        ),
        (
            float(np.exp(reversed_divergence.mean())),
            "the KL divergence is reversed: KL(p(y) || p(y|x))",
            "IS uses KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)): the weights are p(y|x).",
        ),
        (
            float(np.exp(wrong_axis.mean())),
            "the marginal p(y) is averaged over the wrong axis (over classes, per image)",
            "p(y) = probabilities.mean(axis=0): the average prediction over all images, one number per class.",
        ),
        (
            float(np.exp(divergence.sum())),
            "you sum the KL divergences over images instead of averaging them",
            "IS = exp(mean over x of KL(...)): use .mean(), so the score does not grow with the number of images.",
        ),
        (
            float(np.exp((p * (np.log(p) - np.log(marginal))).mean())),
            "you average the KL terms over classes instead of summing them",
            "KL(p || q) = sum over classes of p log(p / q); then average over images.",
        ),
    ]


def check_inception_score(inception_score, verbose=True):
    """Checks ``inception_score(probabilities)`` on ``(N, C)`` class probabilities.

    Catches: the exp missing, the KL divergence reversed, the marginal over
    the wrong axis, sums instead of means, NaN from ``0 * log 0``.
    """

    def body(inception_score, report):
        probabilities = np.array(
            [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.6, 0.3, 0.1]]
        )
        right, variants = _inception_variants(probabilities)
        got = _float_result(inception_score(probabilities.copy()), "inception_score")
        _expect_value(
            got,
            right,
            variants,
            "IS of 4 soft predictions over 3 classes",
            "p_y = probabilities.mean(axis=0); KL per image = sum over classes of "
            "p (log p - log p_y); IS = exp(mean of the KLs).",
        )
        report.ok(f"4 soft predictions over 3 classes: IS = {right:.4f}.")

        confident = np.eye(10)
        got = _float_result(inception_score(confident.copy()), "inception_score")
        if not math.isfinite(got):
            raise Mistake(
                f"10 confident predictions, one per class, give IS = {got}; expected 10 (the maximum).",
                "probabilities of exactly 0 make 0 * log(0) = NaN; that term must count as 0: "
                "use scipy.special.xlogy(p, p) - xlogy(p, p_y), or add a tiny epsilon inside the logs.",
            )
        if not _close(got, 10.0, 1e-4):
            raise Mistake(
                f"10 confident predictions, one per class, should give IS = 10 (the maximum); got {got:.6g}.",
                "KL(one-hot || uniform) = log 10 for each image, so IS = exp(log 10) = 10.",
            )
        report.ok("confident predictions spread evenly over 10 classes give the maximum, 10 (0 log 0 counts as 0).")

        collapsed = np.tile(np.array([[0.0, 0.9, 0.1]]), (5, 1))
        got = _float_result(inception_score(collapsed.copy()), "inception_score")
        if not _close(got, 1.0, 1e-4):
            raise Mistake(
                f"5 images with the same prediction should give IS = 1 (the minimum: no variety); got {got:.6g}.",
                "p(y) = probabilities.mean(axis=0) equals every p(y|x) here, so every KL is 0 and IS = exp(0) = 1.",
            )
        report.ok("the same prediction for every image gives the minimum, 1.")

    return run_check("inception_score", inception_score, body, verbose)


def _kernel_variants(features_a, features_b):
    """Unbiased MMD^2 and the values of typical mistakes."""
    from ganlab import metrics

    m, n, dimension = len(features_a), len(features_b), features_a.shape[1]

    def mmd(kernel, unbiased=True, cross_factor=2.0):
        k_aa, k_bb = kernel(features_a, features_a), kernel(features_b, features_b)
        k_ab = kernel(features_a, features_b)
        if unbiased:
            within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
            within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
        else:
            within_a, within_b = k_aa.mean(), k_bb.mean()
        return float(within_a + within_b - cross_factor * k_ab.mean())

    def polynomial(degree, scale=True, offset=1.0):
        return lambda x, y: (x @ y.T / (dimension if scale else 1.0) + offset) ** degree

    cubic = polynomial(3)
    k_aa, k_bb = cubic(features_a, features_a), cubic(features_b, features_b)
    off_diagonal_over_squares = float(
        (k_aa.sum() - np.trace(k_aa)) / m**2
        + (k_bb.sum() - np.trace(k_bb)) / n**2
        - 2.0 * cubic(features_a, features_b).mean()
    )
    right = float(metrics.squared_mmd(features_a, features_b))
    degree_hint = "KID's kernel is cubic: k(x, y) = (x @ y.T / d + 1) ** 3, with d = features.shape[1]."
    return right, [
        (
            mmd(polynomial(3), unbiased=False),
            "you use the biased estimator: the diagonal k(x_i, x_i) is included in the within-set means",
            "leave out i == j: (K_aa.sum() - np.trace(K_aa)) / (m * (m - 1)), and the same for K_bb.",
        ),
        (
            off_diagonal_over_squares,
            "you leave out the diagonal but still divide by m^2 (and n^2)",
            "there are m (m - 1) pairs with i != j: divide by m * (m - 1).",
        ),
        (mmd(polynomial(2)), "your kernel has degree 2", degree_hint),
        (mmd(polynomial(1)), "your kernel is linear (degree 1)", degree_hint),
        (mmd(polynomial(3, scale=False)), "your kernel does not divide x . y by the dimension d", degree_hint),
        (mmd(polynomial(3, offset=0.0)), "your kernel has no + 1", degree_hint),
        (
            mmd(polynomial(3), cross_factor=1.0),
            "the cross term is missing its factor 2",
            "MMD^2 = mean k(a, a') + mean k(b, b') - 2 mean k(a, b).",
        ),
    ]


def check_kernel_distance(kernel_distance, verbose=True):
    """Checks ``kernel_distance(features_a, features_b)``: the unbiased squared MMD of KID on whole sets.

    Catches: the biased estimator (diagonal included), the wrong normalization
    of the within-set sums, a kernel of the wrong degree, without ``/ d`` or
    without ``+ 1``, the cross term without its factor 2, sets of different
    sizes normalized with one size.
    """

    def body(kernel_distance, report):
        features_a = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        features_b = 2.0 * features_a
        right, variants = _kernel_variants(features_a, features_b)
        got = _float_result(kernel_distance(features_a.copy(), features_b.copy()), "kernel_distance")
        _expect_value(
            got,
            right,
            variants,
            "KID of 3 points in 2-D against the same points doubled",
            "K = (x @ y.T / d + 1) ** 3; MMD^2 = (K_aa.sum() - trace) / (m (m - 1)) + "
            "(K_bb.sum() - trace) / (n (n - 1)) - 2 K_ab.mean().",
        )
        report.ok(
            f"3 points in 2-D against the same points doubled: MMD^2 = {right:.4f} "
            "(cubic kernel, diagonal left out)."
        )

        random_generator = np.random.default_rng(5)
        features_a = random_generator.normal(size=(6, 4))
        features_b = random_generator.normal(size=(9, 4)) + 0.3
        right, variants = _kernel_variants(features_a, features_b)
        got = _float_result(kernel_distance(features_a.copy(), features_b.copy()), "kernel_distance")
        _expect_value(
            got,
            right,
            variants,
            "KID of sets of different sizes (6 and 9 points)",
            "normalize each within-set sum by its own size: m (m - 1) for a, n (n - 1) for b, "
            "and the cross sum by m n.",
        )
        reverse = _float_result(kernel_distance(features_b.copy(), features_a.copy()), "kernel_distance")
        if not _close(reverse, got, 1e-4):
            raise Mistake(
                f"KID must be symmetric: kernel_distance(a, b) = {got:.6g}, kernel_distance(b, a) = {reverse:.6g}.",
                "use m = len(features_a) and n = len(features_b) each for its own set.",
            )
        report.ok("sets of different sizes (6 and 9), and the same value with a and b swapped.")

    return run_check("kernel_distance", kernel_distance, body, verbose)
