// The one C surface of swift-rnn: OpenBLAS's CBLAS interface (sgemm and friends,
// openblas_set_num_threads, openblas_get_corename). Only RNNCore/BLAS.swift imports it.
#include <cblas.h>
