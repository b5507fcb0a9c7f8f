// CONTRACT.md "Exit codes": 0 ok, 1 a run failed, 2 bad input, 3 an invariant broke.
#pragma once

namespace vringsim {
constexpr int kExitOk = 0, kExitFailed = 1, kExitBadInput = 2, kExitInternal = 3;
}
