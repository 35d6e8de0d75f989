"""Word lists for Indonesian-looking synthetic submissions (names, units, narratives, evidence).

Plain data only; :mod:`flows.generator.text` assembles them. Nothing here is part of the method.
"""

from __future__ import annotations

# Relative frequency of each urusan among reported innovations; affairs of the method file that are
# not listed here get weight 1.
AFFAIR_WEIGHTS: dict[str, float] = {
    "kesehatan": 18, "pendidikan": 11, "administrasi kependudukan dan pencatatan sipil": 7,
    "sosial": 5, "pekerjaan umum dan penataan ruang": 4, "perumahan rakyat dan kawasan permukiman": 2,
    "ketenteraman, ketertiban umum, dan pelindungan masyarakat": 2.5, "komunikasi dan informatika": 5,
    "pemberdayaan perempuan dan pelindungan anak": 3, "pemberdayaan masyarakat dan desa": 3,
    "pengendalian penduduk dan keluarga berencana": 2.5, "penanaman modal": 3, "pertanian": 3,
    "koperasi, usaha kecil, dan menengah": 3, "lingkungan hidup": 3, "perhubungan": 2, "pariwisata": 2,
    "perdagangan": 2, "tenaga kerja": 2, "pangan": 2, "kelautan dan perikanan": 1.5, "perencanaan": 3,
    "keuangan": 3, "kepegawaian": 2.5, "pengawasan": 1.5, "penelitian dan pengembangan": 1.5,
    "perpustakaan": 1.5, "kearsipan": 1.2, "statistik": 0.6, "persandian": 0.4, "transmigrasi": 0.3,
}

# Implementing units (OPD) by affair; "{place}" is replaced by a local place name.
UNITS_BY_AFFAIR: dict[str, tuple[str, ...]] = {
    "kesehatan": ("Dinas Kesehatan", "RSUD {place}", "Puskesmas {place}", "Dinas Kesehatan"),
    "pendidikan": ("Dinas Pendidikan", "Dinas Pendidikan dan Kebudayaan", "SMP Negeri 1 {place}"),
    "administrasi kependudukan dan pencatatan sipil": ("Dinas Kependudukan dan Pencatatan Sipil",),
    "sosial": ("Dinas Sosial", "Dinas Sosial dan Pemberdayaan Masyarakat"),
    "pekerjaan umum dan penataan ruang": ("Dinas Pekerjaan Umum dan Penataan Ruang",),
    "perumahan rakyat dan kawasan permukiman": ("Dinas Perumahan Rakyat dan Kawasan Permukiman",),
    "ketenteraman, ketertiban umum, dan pelindungan masyarakat": (
        "Satuan Polisi Pamong Praja", "Badan Penanggulangan Bencana Daerah", "Dinas Pemadam Kebakaran"),
    "komunikasi dan informatika": ("Dinas Komunikasi dan Informatika",),
    "pemberdayaan perempuan dan pelindungan anak": (
        "Dinas Pemberdayaan Perempuan dan Perlindungan Anak",),
    "pemberdayaan masyarakat dan desa": ("Dinas Pemberdayaan Masyarakat dan Desa", "Kecamatan {place}"),
    "pengendalian penduduk dan keluarga berencana": ("Dinas Pengendalian Penduduk dan Keluarga Berencana",),
    "penanaman modal": ("Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",),
    "pertanian": ("Dinas Pertanian", "Dinas Pertanian dan Ketahanan Pangan"),
    "pangan": ("Dinas Ketahanan Pangan", "Dinas Pertanian dan Ketahanan Pangan"),
    "koperasi, usaha kecil, dan menengah": ("Dinas Koperasi dan Usaha Mikro",),
    "lingkungan hidup": ("Dinas Lingkungan Hidup",),
    "perhubungan": ("Dinas Perhubungan",),
    "pariwisata": ("Dinas Pariwisata", "Dinas Pariwisata, Pemuda dan Olahraga"),
    "perdagangan": ("Dinas Perdagangan", "Dinas Perindustrian dan Perdagangan"),
    "perindustrian": ("Dinas Perindustrian dan Perdagangan",),
    "tenaga kerja": ("Dinas Tenaga Kerja",),
    "kelautan dan perikanan": ("Dinas Kelautan dan Perikanan",),
    "perencanaan": ("Badan Perencanaan Pembangunan Daerah",),
    "keuangan": ("Badan Pengelolaan Keuangan dan Aset Daerah", "Badan Pendapatan Daerah"),
    "kepegawaian": ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",),
    "pendidikan dan pelatihan": ("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",),
    "pengawasan": ("Inspektorat Daerah",),
    "penelitian dan pengembangan": ("Badan Riset dan Inovasi Daerah", "Badan Penelitian dan Pengembangan"),
    "perpustakaan": ("Dinas Perpustakaan dan Kearsipan",),
    "kearsipan": ("Dinas Perpustakaan dan Kearsipan",),
    "kesekretariatan": ("Sekretariat Daerah", "Sekretariat DPRD"),
    "statistik": ("Dinas Komunikasi, Informatika dan Statistik",),
    "persandian": ("Dinas Komunikasi, Informatika, Statistik dan Persandian",),
}
GENERAL_UNITS = ("Sekretariat Daerah", "Badan Perencanaan Pembangunan Daerah", "Kecamatan {place}",
                 "Bagian Organisasi Sekretariat Daerah", "Kelurahan {place}")

PLACES = ("Sukamaju", "Sukajadi", "Mekarsari", "Sidomulyo", "Tanjung Harapan", "Sumber Rejo", "Karang Anyar",
          "Batu Putih", "Air Hitam", "Kota Baru", "Pasar Minggu", "Bukit Indah", "Talang Jaya", "Sungai Raya",
          "Margahayu", "Wonosari", "Lembah Hijau", "Teluk Betung", "Tanah Merah", "Padang Sari")

ACRONYMS = ("CANTIK", "CERDAS", "PINTAR", "SEHAT", "JEMPOL", "SAKTI", "LINCAH", "TEPAT", "SIGAP", "GERCEP",
            "MANTAP", "KEREN", "BERLIAN", "SENYUM", "PELITA", "MELATI", "SIMPATIK", "JUARA", "BERSINAR",
            "LANCAR", "PRIMA", "AMANAH", "HEBAT", "SIAGA", "TUNTAS", "ASIK", "RAMAH", "CEPAT", "TANGGUH",
            "PANDAI", "DUKCAPIL GO", "MAPAN", "SERASI", "BAJAK", "ELANG", "PENA", "DESA", "KASIH", "LESTARI")
ACRONYM_PREFIXES = ("SI-", "E-", "GO-", "", "", "SIM-", "", "I-", "GERAKAN ")

HEADS = ("Sistem Informasi", "Gerakan", "Layanan", "Aplikasi", "Program", "Pelayanan", "Sekolah", "Klinik",
         "Rumah", "Kampung", "Pojok", "Gerai", "Satu Data")
OBJECTS_BY_AFFAIR: dict[str, tuple[str, ...]] = {
    "kesehatan": ("Kesehatan Ibu dan Anak", "Pencegahan Stunting", "Rujukan Pasien", "Imunisasi Balita",
                  "Antrean Puskesmas", "Pemantauan Gizi", "Deteksi Dini Hipertensi", "Pelayanan Lansia"),
    "pendidikan": ("Literasi Siswa", "Penerimaan Peserta Didik", "Guru Penggerak", "Anak Putus Sekolah",
                   "Pembelajaran Jarak Jauh", "Beasiswa Daerah"),
    "administrasi kependudukan dan pencatatan sipil": (
        "Dokumen Kependudukan", "Akta Kelahiran", "KTP Elektronik", "Kartu Identitas Anak",
        "Pencatatan Kematian"),
    "sosial": ("Bantuan Sosial", "Penyandang Disabilitas", "Data Kemiskinan", "Rehabilitasi Sosial"),
    "komunikasi dan informatika": ("Pengaduan Masyarakat", "Satu Data Daerah", "Jaringan Internet Desa"),
    "penanaman modal": ("Perizinan Berusaha", "Investasi Daerah", "Izin Usaha Mikro"),
    "keuangan": ("Pajak Daerah", "Retribusi Daerah", "Pengelolaan Aset", "Belanja Daerah"),
    "pertanian": ("Pupuk Bersubsidi", "Penyuluhan Petani", "Hortikultura", "Benih Unggul"),
    "lingkungan hidup": ("Bank Sampah", "Pengelolaan Sampah", "Penghijauan Kota"),
    "perencanaan": ("Perencanaan Pembangunan", "Musrenbang", "Evaluasi Kinerja"),
    "kepegawaian": ("Kinerja ASN", "Administrasi Kepegawaian", "Pengembangan Kompetensi"),
}
GENERAL_OBJECTS = ("Pelayanan Publik", "Pemberdayaan Masyarakat", "Administrasi Desa", "Usaha Mikro",
                   "Informasi Publik", "Pengaduan Warga", "Ketahanan Keluarga", "Tata Kelola Pemerintahan")
MODIFIERS = ("Terpadu", "Berbasis Digital", "Satu Pintu", "Keliling", "Desa", "Online", "Terintegrasi",
             "Partisipatif", "Berbasis Masyarakat", "Cepat dan Mudah", "", "", "")

FIRST_NAMES = ("Andi", "Budi", "Siti", "Dewi", "Rina", "Agus", "Eko", "Sri", "Wahyu", "Nur", "Putu", "Made",
               "Ketut", "Yohanes", "Maria", "Fitri", "Rizky", "Hendra", "Indah", "Joko", "Lina", "Muhammad",
               "Ahmad", "Yusuf", "Ratna", "Teguh", "Dian", "Arief", "Novi", "Bambang", "Fransiska", "Irwan")
LAST_NAMES = ("Santoso", "Wijaya", "Saputra", "Lestari", "Hidayat", "Nugroho", "Siregar", "Nasution",
              "Simanjuntak", "Pratama", "Kusuma", "Rahmawati", "Setiawan", "Harahap", "Sembiring", "Wulandari",
              "Purnomo", "Hutapea", "Rumbiak", "Manuputty", "Daeng", "Suryani", "Gunawan", "Matondang")

# Narrative templates. Slots: name, unit, region, problem, pain, approach, actors, mode, period, year0,
# target, channel, step.
DESIGN_SENTENCES = (
    "{name} merupakan inovasi yang dikembangkan oleh {unit} {region} untuk menjawab permasalahan {problem}.",
    "Selama ini masyarakat harus {pain}, sehingga layanan menjadi lambat dan biaya yang dikeluarkan warga "
    "cukup besar.",
    "Melalui inovasi ini, {unit} {approach}.",
    "Tahapan pelaksanaan meliputi {step}, kemudian {step}, dan diakhiri dengan {step}.",
    "Inovasi ini melibatkan {actors} dalam setiap tahap perencanaan, pelaksanaan dan evaluasi.",
    "Data layanan dicatat secara {mode} dan dievaluasi setiap {period} oleh tim pengelola.",
    "Pengembangan dilakukan secara bertahap sejak tahun {year0} dengan dukungan anggaran daerah.",
    "Sasaran utama inovasi adalah {target} di seluruh wilayah {region}.",
    "Informasi layanan disampaikan melalui {channel} sehingga mudah dijangkau oleh masyarakat.",
    "Tim pelaksana ditetapkan dengan keputusan kepala daerah dan bekerja sesuai standar operasional prosedur.",
    "Kendala yang dihadapi pada awal pelaksanaan antara lain keterbatasan sumber daya manusia dan sarana "
    "pendukung di tingkat {mode_place}.",
    "Untuk mengatasi kendala tersebut, {unit} {approach}.",
    "Keberlanjutan inovasi dijamin melalui regulasi daerah, alokasi anggaran rutin dan pendampingan teknis.",
    "Inovasi ini juga selaras dengan prioritas pembangunan dalam RPJMD {region}.",
    "Setiap pengaduan masyarakat ditindaklanjuti paling lambat dalam {days} hari kerja.",
    "Evaluasi dilakukan dengan survei kepuasan masyarakat dan laporan kinerja {period}an.",
    "Replikasi inovasi telah dilakukan oleh beberapa perangkat daerah dan daerah lain setelah studi tiru.",
    "Prinsip utama yang dipegang adalah pelayanan yang cepat, mudah, transparan dan akuntabel.",
)
PROBLEMS = ("rendahnya cakupan layanan", "panjangnya antrean layanan", "tingginya angka stunting",
            "lambatnya penerbitan dokumen", "kurangnya akses informasi", "rendahnya partisipasi masyarakat",
            "tingginya biaya perjalanan warga ke pusat kota", "belum terintegrasinya data antar perangkat daerah",
            "rendahnya realisasi pendapatan asli daerah", "tingginya angka putus sekolah")
PAINS = ("datang langsung ke kantor dinas", "menunggu berhari-hari untuk mendapatkan layanan",
         "menempuh perjalanan jauh ke ibu kota kabupaten", "mengurus berkas di beberapa instansi berbeda",
         "mengisi formulir yang sama berulang kali")
APPROACHES = ("menyediakan layanan jemput bola hingga ke tingkat desa",
              "membangun aplikasi berbasis web dan Android yang terhubung dengan basis data daerah",
              "membentuk tim kerja lintas perangkat daerah", "menyederhanakan alur layanan menjadi satu pintu",
              "melatih kader di setiap kelurahan untuk mendampingi warga",
              "memanfaatkan media sosial dan layanan pesan singkat untuk menjangkau warga")
ACTORS = ("pemerintah desa, tokoh masyarakat dan perguruan tinggi", "dunia usaha, media dan komunitas lokal",
          "kader posyandu, puskesmas dan organisasi perangkat daerah terkait",
          "akademisi, pelaku usaha, komunitas, pemerintah dan media massa")
MODES = ("elektronik", "daring", "manual dan elektronik", "terintegrasi")
PERIODS = ("bulan", "triwulan", "semester", "tahun")
TARGETS = ("ibu hamil dan balita", "pelaku usaha mikro", "siswa dan guru", "penduduk rentan",
           "aparatur sipil negara", "petani dan nelayan", "warga lanjut usia", "seluruh penduduk")
CHANNELS = ("website resmi pemerintah daerah", "media sosial dan radio lokal", "papan informasi di kantor desa",
            "aplikasi pesan singkat", "spanduk dan baliho")
STEPS = ("sosialisasi kepada masyarakat", "pelatihan petugas", "uji coba layanan di satu kecamatan",
         "penyusunan standar operasional prosedur", "pengembangan aplikasi", "pendataan sasaran",
         "monitoring dan evaluasi berkala", "penyusunan regulasi pendukung")
PLACE_LEVELS = ("kecamatan", "desa", "kelurahan", "puskesmas", "sekolah")

GOALS = ("Meningkatkan kualitas dan kecepatan {service} bagi masyarakat.",
         "Mempermudah akses masyarakat terhadap {service}.",
         "Menurunkan waktu dan biaya yang diperlukan untuk memperoleh {service}.",
         "Meningkatkan transparansi dan akuntabilitas {service}.")
BENEFITS = ("Masyarakat memperoleh {service} tanpa harus datang ke kantor.",
            "Waktu layanan menjadi lebih singkat dan biaya lebih rendah.",
            "Data sasaran menjadi lebih akurat dan mudah dipantau.",
            "Kepuasan masyarakat terhadap {service} meningkat.")
RESULTS = ("Jumlah penerima layanan meningkat dari {a} menjadi {b} orang dalam satu tahun.",
           "Waktu penyelesaian layanan turun dari {c} hari menjadi {d} hari.",
           "Indeks kepuasan masyarakat mencapai {e} persen.",
           "Inovasi telah direplikasi oleh {f} perangkat daerah lain.")

EVIDENCE_FILES = ("perkada-{n}-{year}.pdf", "sk-tim-inovasi.pdf", "foto-sosialisasi.jpg", "dpa-{year}.pdf",
                  "laporan-monev-{year}.pdf", "video-inovasi.mp4", "sk-kepala-daerah-{n}.pdf",
                  "surat-tugas-{n}.pdf", "daftar-hadir-bimtek.pdf", "rkpd-{year}.pdf", "sop-layanan.docx",
                  "rekap-pengaduan-{year}.xlsx", "survei-kepuasan-{year}.pdf", "panduan-teknis.pdf",
                  "foto-kegiatan-{n}.jpg", "lhp-bpk-{year}.pdf", "lakip-{year}.pdf", "rpjmd.pdf")
URL_PATHS = ("dokumen/{slug}.pdf", "berita/{slug}", "inovasi/{slug}", "ppid/{slug}.pdf", "video/{slug}")

NOT_JSON_PAGE = ("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n"
                 "<h1>502 Bad Gateway</h1>\n<p>Server sedang sibuk. Silakan coba beberapa saat lagi.</p>\n"
                 "<hr><address>nginx</address>\n</body></html>\n")
