package pki_test

import "math/big"

func t0Serial() *big.Int { return big.NewInt(1) }
