#pragma once
// VRINGSIM_ASAN is 1 in a build with AddressSanitizer: GCC defines
// __SANITIZE_ADDRESS__, clang (the sanitizer preset's compiler) answers
// __has_feature(address_sanitizer) instead.
#if defined(__SANITIZE_ADDRESS__)
#define VRINGSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VRINGSIM_ASAN 1
#endif
#endif
#ifndef VRINGSIM_ASAN
#define VRINGSIM_ASAN 0
#endif
