#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks the generated captures against MANIFEST.tsv with tshark, independently of rstwatch:
#  - for every file under pcap/, the frames that `tshark -Y tcp.flags.reset==1` lists are
#    exactly the MANIFEST rows of that file (none for a file without rows);
#  - each of those resets comes from the MANIFEST's sender (client 198.51.100.10 /
#    2001:db8:1::10, server 203.0.113.20 / 2001:db8:2::20; 'unknown' is not checked);
#  - files of kind 'unreadable' in BADINPUT.tsv are refused by tshark and have no rows;
#  - every file named in MANIFEST.tsv or BADINPUT.tsv exists, and every file under pcap/ is
#    named in one of them.
# Exit 0 when everything matches, 1 otherwise.
set -u
cd "$(dirname "$0")" || exit 1
command -v tshark >/dev/null || { echo "check-manifest: tshark is not installed"; exit 1; }

fail=0
bad() { echo "FAIL $*"; fail=1; }

CLIENT4=198.51.100.10 SERVER4=203.0.113.20 CLIENT6=2001:db8:1::10 SERVER6=2001:db8:2::20

manifest_files=$(awk -F'\t' 'NR > 1 { print $1 }' MANIFEST.tsv | sort -u)
unreadable=$(awk -F'\t' 'NR > 1 && $2 == "unreadable" { print $1 }' BADINPUT.tsv)
badinput_files=$(awk -F'\t' 'NR > 1 { print $1 }' BADINPUT.tsv)

for f in $manifest_files $badinput_files; do
	[ -e "pcap/$f" ] || bad "$f: named in MANIFEST.tsv/BADINPUT.tsv but missing from pcap/"
done

nfiles=0 nrows=0
for path in pcap/*; do
	f=${path#pcap/}
	nfiles=$((nfiles + 1))
	if ! grep -qxF -- "$f" <<<"$manifest_files" && ! grep -qxF -- "$f" <<<"$badinput_files"; then
		bad "$f: in pcap/ but in neither MANIFEST.tsv nor BADINPUT.tsv"
	fi
	expected=$(awk -F'\t' -v f="$f" 'NR > 1 && $1 == f { print $2 "\t" $4 }' MANIFEST.tsv | sort -n)
	if grep -qxF -- "$f" <<<"$unreadable"; then
		[ -z "$expected" ] || bad "$f: unreadable input has MANIFEST rows"
		out=$(tshark -r "$path" -Y 'tcp.flags.reset==1' -T fields -e frame.number 2>/dev/null)
		[ -z "$out" ] || bad "$f: unreadable input, yet tshark lists resets: $out"
		echo "ok   $f (unreadable, no resets)"
		continue
	fi
	# frame, source address (IPv4 or IPv6) of every reset tshark sees; tshark exits non-zero
	# on a truncated file after printing what it could read, which is what we compare
	actual=$(tshark -r "$path" -Y 'tcp.flags.reset==1' -T fields -E separator=/t \
		-e frame.number -e ip.src -e ipv6.src 2>/dev/null |
		awk -F'\t' -v c4=$CLIENT4 -v s4=$SERVER4 -v c6=$CLIENT6 -v s6=$SERVER6 '{
			# in a tunnel tshark lists every layer, outermost first: the
			# reset is the innermost header that is one of our endpoints
			n4 = split($2, a4, ","); n6 = split($3, a6, ",")
			src = n4 ? a4[n4] : a6[n6]
			if (n6 && (a6[n6] == c6 || a6[n6] == s6)) src = a6[n6]
			if (n4 && (a4[n4] == c4 || a4[n4] == s4)) src = a4[n4]
			who = (src == c4 || src == c6) ? "client" : (src == s4 || src == s6) ? "server" : "other:" src
			print $1 "\t" who }' | sort -n)
	exp_frames=$(cut -f1 <<<"$expected")
	act_frames=$(cut -f1 <<<"$actual")
	if [ "$exp_frames" != "$act_frames" ]; then
		bad "$f: MANIFEST frames [$(tr '\n' ' ' <<<"$exp_frames")] but tshark resets [$(tr '\n' ' ' <<<"$act_frames")]"
		continue
	fi
	# sender check, skipping rows whose sender is 'unknown'
	mismatch=$(paste <(cat <<<"$expected") <(cut -f2 <<<"$actual") |
		awk -F'\t' '$2 != "unknown" && $2 != $3 { print "frame " $1 ": MANIFEST sender " $2 ", packet from " $3 }')
	[ -z "$mismatch" ] || { bad "$f: $mismatch"; continue; }
	n=$(grep -c . <<<"$exp_frames")
	nrows=$((nrows + n))
	echo "ok   $f ($n resets: $(tr '\n' ' ' <<<"$exp_frames"))"
done

total_rows=$(awk 'NR > 1' MANIFEST.tsv | grep -c .)
[ "$nrows" -eq "$total_rows" ] || bad "checked $nrows MANIFEST rows of $total_rows"
echo "check-manifest: $nfiles files, $nrows reset rows, $([ $fail -eq 0 ] && echo all match || echo MISMATCH)"
exit $fail
