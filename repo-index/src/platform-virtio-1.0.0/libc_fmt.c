/* libc_fmt.c: vsnprintf and snprintf, without floating point. */
#include <stdbool.h>

#include "libc.h"

/* Where the output goes: buf holds at most size - 1 bytes; len counts them all. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

struct spec {
	bool left, zero, plus, space, alt;
	int width; /* 0: none */
	int prec; /* -1: none */
	char length; /* 'H' hh, 'h', 'l', 'L' ll/j/z/t, or 0 */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* s (n bytes) padded to the width. */
static void put_str(struct out *o, const struct spec *sp, const char *s, size_t n)
{
	int fill = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!sp->left)
		pad(o, ' ', fill);
	while (n--)
		put(o, *s++);
	if (sp->left)
		pad(o, ' ', fill);
}

/* A number: sign or prefix, then zeros to the precision or width, then digits. */
static void put_num(struct out *o, const struct spec *sp, uint64_t v, int base, bool upper,
                    const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, plen = (int)LIBC(strlen)(prefix), zeros, fill;

	while (v) {
		tmp[n++] = digits[v % (unsigned)base];
		v /= (unsigned)base;
	}
	if (n == 0 && sp->prec != 0)
		tmp[n++] = '0';
	zeros = sp->prec > n ? sp->prec - n : 0;
	fill = sp->width - plen - zeros - n;
	if (sp->zero && !sp->left && sp->prec < 0 && fill > 0) {
		zeros += fill;
		fill = 0;
	}
	if (!sp->left)
		pad(o, ' ', fill);
	while (*prefix)
		put(o, *prefix++);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', fill);
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'L':
		return va_arg(*ap, unsigned long long);
	case 'l':
		return va_arg(*ap, unsigned long);
	case 'h':
		return (unsigned short)va_arg(*ap, unsigned int);
	case 'H':
		return (unsigned char)va_arg(*ap, unsigned int);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'L':
		return va_arg(*ap, long long);
	case 'l':
		return va_arg(*ap, long);
	case 'h':
		return (short)va_arg(*ap, int);
	case 'H':
		return (signed char)va_arg(*ap, int);
	default:
		return va_arg(*ap, int);
	}
}

static void conv_signed(struct out *o, const struct spec *sp, va_list *ap)
{
	int64_t v = arg_signed(sp, ap);
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	const char *prefix = v < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "";

	put_num(o, sp, mag, 10, false, prefix);
}

static void conv_unsigned(struct out *o, const struct spec *sp, char c, va_list *ap)
{
	uint64_t v = arg_unsigned(sp, ap);
	const char *prefix = "";

	if (sp->alt && v && c != 'u')
		prefix = c == 'x' ? "0x" : c == 'X' ? "0X" : "0";
	put_num(o, sp, v, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X', prefix);
}

static void conv_string(struct out *o, const struct spec *sp, va_list *ap)
{
	const char *s = va_arg(*ap, const char *);

	if (!s)
		s = "(null)";
	put_str(o, sp, s, sp->prec < 0 ? LIBC(strlen)(s) : LIBC(strnlen)(s, (size_t)sp->prec));
}

/* One conversion character c, with its spec; false when c is unknown. */
static bool convert(struct out *o, struct spec *sp, char c, va_list *ap)
{
	char ch;

	switch (c) {
	case 'd':
	case 'i':
		conv_signed(o, sp, ap);
		return true;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		conv_unsigned(o, sp, c, ap);
		return true;
	case 'c':
		ch = (char)va_arg(*ap, int);
		put_str(o, sp, &ch, 1);
		return true;
	case 's':
		conv_string(o, sp, ap);
		return true;
	case 'p':
		sp->length = 'L';
		sp->alt = true;
		conv_unsigned(o, sp, 'x', ap);
		return true;
	case '%':
		put(o, '%');
		return true;
	default:
		return false;
	}
}

/* A decimal number or '*' at *f (advanced) into *v; false when neither. */
static bool number(const char **f, va_list *ap, int *v)
{
	if (**f == '*') {
		(*f)++;
		*v = va_arg(*ap, int);
		return true;
	}
	if (**f < '0' || **f > '9')
		return false;
	for (*v = 0; **f >= '0' && **f <= '9'; (*f)++)
		*v = *v * 10 + (**f - '0');
	return true;
}

static void parse_flags(const char **f, struct spec *sp)
{
	for (;; (*f)++) {
		switch (**f) {
		case '-':
			sp->left = true;
			break;
		case '0':
			sp->zero = true;
			break;
		case '+':
			sp->plus = true;
			break;
		case ' ':
			sp->space = true;
			break;
		case '#':
			sp->alt = true;
			break;
		default:
			return;
		}
	}
}

static void parse_length(const char **f, struct spec *sp)
{
	char c = **f;

	if (c == 'h' || c == 'l') {
		(*f)++;
		sp->length = c;
		if (**f == c) {
			(*f)++;
			sp->length = c == 'h' ? 'H' : 'L';
		}
	} else if (c == 'z' || c == 'j' || c == 't') {
		(*f)++;
		sp->length = 'L'; /* all 64 bits on x86-64 */
	}
}

/* The spec after a '%' at *f (advanced to the conversion character). */
static void parse_spec(const char **f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){.prec = -1};
	parse_flags(f, sp);
	if (number(f, ap, &sp->width) && sp->width < 0) {
		sp->left = true; /* a negative '*' width means '-' */
		sp->width = -sp->width;
	}
	if (**f == '.') {
		(*f)++;
		/* "." alone is a precision of 0; a negative '*' is none. */
		if (!number(f, ap, &sp->prec))
			sp->prec = 0;
		else if (sp->prec < 0)
			sp->prec = -1;
	}
	parse_length(f, sp);
}

int LIBC(vsnprintf)(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	struct out o = {buf, size, 0};
	va_list args;

	va_copy(args, ap);
	for (const char *f = fmt; *f; f++) {
		struct spec sp;
		const char *start = f;

		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f++;
		parse_spec(&f, &sp, &args);
		/* An unknown conversion is printed as written, as glibc does. */
		if (!*f || !convert(&o, &sp, *f, &args)) {
			for (; start <= f && *start; start++)
				put(&o, *start);
			if (!*f)
				break;
		}
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT32_MAX ? -1 : (int)o.len;
}

int LIBC(snprintf)(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = LIBC(vsnprintf)(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
