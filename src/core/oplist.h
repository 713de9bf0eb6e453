/* The op families as X-macro lists: the one place an op's number, name, autograd node name and
 * dtype rule are written. Plain C with no includes, so C, nvcc, the bindings and autograd all
 * read it. Adding an op is one row here plus its kernels and backward (docs/contributing.md). */
#ifndef WICK_OPLIST_H
#define WICK_OPLIST_H

/* Dtype rules and binding hints, or-ed in the last column. */
#define WICK_OPF_BOOL_OUT 1u  /* the result is bool (comparisons, logical ops, is* tests) */
#define WICK_OPF_FLOAT_OUT 2u /* integer and bool inputs compute in f32 (div, exp, ...) */
#define WICK_OPF_INT_ONLY 4u  /* not defined for floating point tensors (bitwise ops) */
#define WICK_OPF_BY_HAND 8u   /* takes parameters or options: src/lua/l_math.c binds it by hand */

/* Elementwise binary ops (backend slot `binary`): X(ENUM, "name", "NodeName" or NULL when
 * not differentiable, flags). Backward formulas: src/autograd/fn_pointwise.c. */
#define WICK_BINOP_LIST(X)                                           \
  X(ADD, "add", "AddBackward0", 0)                                   \
  X(SUB, "sub", "SubBackward0", 0)                                   \
  X(MUL, "mul", "MulBackward0", 0)                                   \
  X(DIV, "div", "DivBackward0", WICK_OPF_FLOAT_OUT)                  \
  X(POW, "pow", "PowBackward1", 0)                                   \
  X(MAXIMUM, "maximum", "MaximumBackward0", 0)                       \
  X(MINIMUM, "minimum", "MinimumBackward0", 0)                       \
  X(FMOD, "fmod", "FmodBackward1", 0)                                \
  X(REMAINDER, "remainder", "RemainderBackward1", 0)                 \
  X(FLOOR_DIVIDE, "floor_divide", NULL, 0)                           \
  X(ATAN2, "atan2", "Atan2Backward0", WICK_OPF_FLOAT_OUT)            \
  X(EQ, "eq", NULL, WICK_OPF_BOOL_OUT)                               \
  X(NE, "ne", NULL, WICK_OPF_BOOL_OUT)                               \
  X(LT, "lt", NULL, WICK_OPF_BOOL_OUT)                               \
  X(LE, "le", NULL, WICK_OPF_BOOL_OUT)                               \
  X(GT, "gt", NULL, WICK_OPF_BOOL_OUT)                               \
  X(GE, "ge", NULL, WICK_OPF_BOOL_OUT)                               \
  X(LOGICAL_AND, "logical_and", NULL, WICK_OPF_BOOL_OUT)             \
  X(LOGICAL_OR, "logical_or", NULL, WICK_OPF_BOOL_OUT)               \
  X(LOGICAL_XOR, "logical_xor", NULL, WICK_OPF_BOOL_OUT)             \
  X(BITWISE_AND, "bitwise_and", NULL, WICK_OPF_INT_ONLY)             \
  X(BITWISE_OR, "bitwise_or", NULL, WICK_OPF_INT_ONLY)               \
  X(BITWISE_XOR, "bitwise_xor", NULL, WICK_OPF_INT_ONLY)

/* Elementwise unary ops (backend slots `unary`, `unary_backward`), same columns. The BY_HAND
 * ones read parameters p0, p1: clamp and hardtanh min p0, max p1 (NAN = unbounded),
 * leaky_relu slope p0, elu alpha p0. */
#define WICK_UNOP_LIST(X)                                                       \
  X(NEG, "neg", "NegBackward0", 0)                                              \
  X(ABS, "abs", "AbsBackward0", 0)                                              \
  X(SIGN, "sign", "SignBackward0", 0)                                           \
  X(RECIPROCAL, "reciprocal", "ReciprocalBackward0", WICK_OPF_FLOAT_OUT)        \
  X(SQUARE, "square", "PowBackward0", 0)                                        \
  X(EXP, "exp", "ExpBackward0", WICK_OPF_FLOAT_OUT)                             \
  X(EXPM1, "expm1", "Expm1Backward0", WICK_OPF_FLOAT_OUT)                       \
  X(LOG, "log", "LogBackward0", WICK_OPF_FLOAT_OUT)                             \
  X(LOG2, "log2", "Log2Backward0", WICK_OPF_FLOAT_OUT)                          \
  X(LOG10, "log10", "Log10Backward0", WICK_OPF_FLOAT_OUT)                       \
  X(LOG1P, "log1p", "Log1PBackward0", WICK_OPF_FLOAT_OUT)                       \
  X(SQRT, "sqrt", "SqrtBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(RSQRT, "rsqrt", "RsqrtBackward0", WICK_OPF_FLOAT_OUT)                       \
  X(SIN, "sin", "SinBackward0", WICK_OPF_FLOAT_OUT)                             \
  X(COS, "cos", "CosBackward0", WICK_OPF_FLOAT_OUT)                             \
  X(TAN, "tan", "TanBackward0", WICK_OPF_FLOAT_OUT)                             \
  X(ASIN, "asin", "AsinBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(ACOS, "acos", "AcosBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(ATAN, "atan", "AtanBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(SINH, "sinh", "SinhBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(COSH, "cosh", "CoshBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(TANH, "tanh", "TanhBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(ERF, "erf", "ErfBackward0", WICK_OPF_FLOAT_OUT)                             \
  X(SIGMOID, "sigmoid", "SigmoidBackward0", WICK_OPF_FLOAT_OUT)                 \
  X(RELU, "relu", "ReluBackward0", 0)                                           \
  X(GELU, "gelu", "GeluBackward0", WICK_OPF_FLOAT_OUT | WICK_OPF_BY_HAND)       \
  X(GELU_TANH, "gelu", "GeluBackward0", WICK_OPF_FLOAT_OUT | WICK_OPF_BY_HAND)  \
  X(SILU, "silu", "SiluBackward0", WICK_OPF_FLOAT_OUT)                          \
  X(SOFTPLUS, "softplus", "SoftplusBackward0", WICK_OPF_FLOAT_OUT)              \
  X(FLOOR, "floor", "FloorBackward0", 0)                                        \
  X(CEIL, "ceil", "CeilBackward0", 0)                                           \
  X(ROUND, "round", "RoundBackward0", 0)                                        \
  X(TRUNC, "trunc", "TruncBackward0", 0)                                        \
  X(LOGICAL_NOT, "logical_not", NULL, WICK_OPF_BOOL_OUT)                        \
  X(BITWISE_NOT, "bitwise_not", NULL, WICK_OPF_INT_ONLY)                        \
  X(ISNAN, "isnan", NULL, WICK_OPF_BOOL_OUT)                                    \
  X(ISINF, "isinf", NULL, WICK_OPF_BOOL_OUT)                                    \
  X(ISFINITE, "isfinite", NULL, WICK_OPF_BOOL_OUT)                              \
  X(CLAMP, "clamp", "ClampBackward1", WICK_OPF_BY_HAND)                         \
  X(LEAKY_RELU, "leaky_relu", "LeakyReluBackward0", WICK_OPF_BY_HAND)           \
  X(ELU, "elu", "EluBackward0", WICK_OPF_FLOAT_OUT | WICK_OPF_BY_HAND)          \
  X(HARDTANH, "hardtanh", "HardtanhBackward0", WICK_OPF_BY_HAND)

/* Reductions over the last dims (backend slot `reduce`): X(ENUM, "name", flags). MAX/MIN are
 * amax/amin; the ARG ones give i64 indices (WICK_OPF_ARG) and are bound with their own
 * argument rules (src/lua/l_reduce.c). Backward formulas: src/autograd/fn_reduce.c. */
#define WICK_OPF_ARG 16u
#define WICK_REDOP_LIST(X)             \
  X(SUM, "sum", 0)                     \
  X(PROD, "prod", 0)                   \
  X(MAX, "amax", 0)                    \
  X(MIN, "amin", 0)                    \
  X(ARGMAX, "argmax", WICK_OPF_ARG)    \
  X(ARGMIN, "argmin", WICK_OPF_ARG)    \
  X(ANY, "any", WICK_OPF_BOOL_OUT)     \
  X(ALL, "all", WICK_OPF_BOOL_OUT)

/* Elementwise losses (backend slots `elem_loss`, `elem_loss_backward`):
 * X(ENUM, "name", "NodeName"). */
#define WICK_LOSS_LIST(X)                                                               \
  X(MSE, "mse_loss", "MseLossBackward0")                                                \
  X(L1, "l1_loss", "L1LossBackward0")                                                   \
  X(BCE_LOGITS, "binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0")

#define WICK_OPL_ENUM_BIN(e, ...) WICK_BIN_##e,
#define WICK_OPL_ENUM_UN(e, ...) WICK_UN_##e,
#define WICK_OPL_ENUM_RED(e, ...) WICK_RED_##e,
#define WICK_OPL_ENUM_LOSS(e, ...) WICK_LOSS_##e,
typedef enum { WICK_BINOP_LIST(WICK_OPL_ENUM_BIN) WICK_BIN_COUNT } wick_binop;
typedef enum { WICK_UNOP_LIST(WICK_OPL_ENUM_UN) WICK_UN_COUNT } wick_unop;
typedef enum { WICK_REDOP_LIST(WICK_OPL_ENUM_RED) WICK_RED_COUNT } wick_redop;
typedef enum { WICK_LOSS_LIST(WICK_OPL_ENUM_LOSS) WICK_LOSS_COUNT } wick_loss_kind;

/* Lookups by number (a switch each: the lists need no particular order). An op number out of
 * range gets "?" for its name, NULL for its node and no flags. */
#define WICK_OPL_NAME_BIN(e, n, g, f) case WICK_BIN_##e: return n;
#define WICK_OPL_NAME_UN(e, n, g, f) case WICK_UN_##e: return n;
#define WICK_OPL_NAME_RED(e, n, f) case WICK_RED_##e: return n;
#define WICK_OPL_NAME_LOSS(e, n, g) case WICK_LOSS_##e: return n;
#define WICK_OPL_NODE_BIN(e, n, g, f) case WICK_BIN_##e: return g;
#define WICK_OPL_NODE_UN(e, n, g, f) case WICK_UN_##e: return g;
#define WICK_OPL_NODE_LOSS(e, n, g) case WICK_LOSS_##e: return g;
#define WICK_OPL_FLAGS_BIN(e, n, g, f) case WICK_BIN_##e: return f;
#define WICK_OPL_FLAGS_UN(e, n, g, f) case WICK_UN_##e: return f;
#define WICK_OPL_FLAGS_RED(e, n, f) case WICK_RED_##e: return f;

static inline const char *wick_binop_name(int op) {
  switch (op) { WICK_BINOP_LIST(WICK_OPL_NAME_BIN) default: return "?"; }
}
static inline const char *wick_binop_node(int op) {
  switch (op) { WICK_BINOP_LIST(WICK_OPL_NODE_BIN) default: return (const char *)0; }
}
static inline unsigned wick_binop_flags(int op) {
  switch (op) { WICK_BINOP_LIST(WICK_OPL_FLAGS_BIN) default: return 0; }
}
static inline const char *wick_unop_name(int op) {
  switch (op) { WICK_UNOP_LIST(WICK_OPL_NAME_UN) default: return "?"; }
}
static inline const char *wick_unop_node(int op) {
  switch (op) { WICK_UNOP_LIST(WICK_OPL_NODE_UN) default: return (const char *)0; }
}
static inline unsigned wick_unop_flags(int op) {
  switch (op) { WICK_UNOP_LIST(WICK_OPL_FLAGS_UN) default: return 0; }
}
static inline const char *wick_redop_name(int op) {
  switch (op) { WICK_REDOP_LIST(WICK_OPL_NAME_RED) default: return "?"; }
}
static inline unsigned wick_redop_flags(int op) {
  switch (op) { WICK_REDOP_LIST(WICK_OPL_FLAGS_RED) default: return 0; }
}
static inline const char *wick_loss_name(int kind) {
  switch (kind) { WICK_LOSS_LIST(WICK_OPL_NAME_LOSS) default: return "?"; }
}
static inline const char *wick_loss_node(int kind) {
  switch (kind) { WICK_LOSS_LIST(WICK_OPL_NODE_LOSS) default: return (const char *)0; }
}

/* The `kind` argument of the backend's random slot (src/core/rng.h fills). */
enum {
  WICK_RANDOM_UNIFORM = 0,     /* [p0, p1) */
  WICK_RANDOM_NORMAL = 1,      /* mean p0, std p1 */
  WICK_RANDOM_INTEGERS = 2,    /* integers in [p0, p1), both exact in a double (p1 may be 2^63) */
  WICK_RANDOM_BERNOULLI = 3,   /* 1 with probability p0 */
  WICK_RANDOM_EXPONENTIAL = 4, /* rate p0 */
};

#endif
