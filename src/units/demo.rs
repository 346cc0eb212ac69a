//! A sample province for development, training and tests.
//!
//! Hòa Bình province as organised before the 2025 reorganisation of local government, with
//! illustrative codes (province-level group `H23`) and invented leaders with realistic names.
//! The data is fixed: every call returns the same units, codes and ids in the same order, so
//! files and records made from it stay comparable between runs.

use super::{Leader, LeaderId, Unit, UnitCode, UnitGroup, UnitRegistry};

/// One row of the demo table: code, name, group, parent code, leaders (id, full name).
type DemoUnit = (
    &'static str,
    &'static str,
    UnitGroup,
    Option<&'static str>,
    &'static [(&'static str, &'static str)],
);

/// The demo province. Codes follow `000.00.NN.H23` for province- and district-level units
/// (01–06 departments, 31–35 districts and the city) and `000.CC.NN.H23` for commune `CC`
/// of district `NN`. All text is precomposed (NFC) UTF-8.
const DEMO_UNITS: &[DemoUnit] = &[
    (
        "000.00.00.H23",
        "Văn phòng Ủy ban nhân dân tỉnh Hòa Bình",
        UnitGroup::ProvinceOffice,
        None,
        &[
            ("nguyen-van-an", "Nguyễn Văn An"),
            ("bui-thi-huong", "Bùi Thị Hương"),
        ],
    ),
    (
        "000.00.01.H23",
        "Sở Tài chính tỉnh Hòa Bình",
        UnitGroup::Department,
        None,
        &[
            ("tran-quoc-bao", "Trần Quốc Bảo"),
            ("dinh-thi-lan", "Đinh Thị Lan"),
        ],
    ),
    (
        "000.00.02.H23",
        "Sở Ngoại vụ tỉnh Hòa Bình",
        UnitGroup::Department,
        None,
        &[("le-minh-duc", "Lê Minh Đức")],
    ),
    (
        "000.00.03.H23",
        "Ban Dân tộc tỉnh Hòa Bình",
        UnitGroup::Department,
        None,
        &[
            ("bui-van-khanh", "Bùi Văn Khánh"),
            ("quach-thi-mai", "Quách Thị Mai"),
        ],
    ),
    (
        "000.00.04.H23",
        "Sở Xây dựng tỉnh Hòa Bình",
        UnitGroup::Department,
        None,
        &[("pham-quang-huy", "Phạm Quang Huy")],
    ),
    (
        "000.00.05.H23",
        "Sở Nội vụ tỉnh Hòa Bình",
        UnitGroup::Department,
        None,
        &[
            ("hoang-thi-thu-trang", "Hoàng Thị Thu Trang"),
            ("vu-dinh-long", "Vũ Đình Long"),
        ],
    ),
    (
        "000.00.06.H23",
        "Sở Thông tin và Truyền thông tỉnh Hòa Bình",
        UnitGroup::Department,
        None,
        &[("do-manh-hung", "Đỗ Mạnh Hùng")],
    ),
    (
        "000.00.31.H23",
        "Ủy ban nhân dân huyện Cao Phong",
        UnitGroup::District,
        None,
        &[("bach-cong-tuan", "Bạch Công Tuấn")],
    ),
    (
        "000.00.32.H23",
        "Ủy ban nhân dân huyện Lạc Sơn",
        UnitGroup::District,
        None,
        &[
            ("bui-van-thang", "Bùi Văn Thắng"),
            ("dinh-thi-ngoc-anh", "Đinh Thị Ngọc Ánh"),
        ],
    ),
    (
        "000.00.33.H23",
        "Ủy ban nhân dân huyện Lạc Thủy",
        UnitGroup::District,
        None,
        &[("nguyen-thi-thu-ha", "Nguyễn Thị Thu Hà")],
    ),
    (
        "000.00.34.H23",
        "Ủy ban nhân dân huyện Lương Sơn",
        UnitGroup::District,
        None,
        &[
            ("ha-van-son", "Hà Văn Sơn"),
            ("truong-thi-yen", "Trương Thị Yến"),
        ],
    ),
    (
        "000.00.35.H23",
        "Ủy ban nhân dân thành phố Hòa Bình",
        UnitGroup::District,
        None,
        &[
            ("ngo-thanh-tung", "Ngô Thanh Tùng"),
            ("lo-thi-hanh", "Lò Thị Hạnh"),
        ],
    ),
    (
        "000.01.31.H23",
        "Ủy ban nhân dân xã Thu Phong",
        UnitGroup::Commune,
        Some("000.00.31.H23"),
        &[("quach-van-hai", "Quách Văn Hải")],
    ),
    (
        "000.01.32.H23",
        "Ủy ban nhân dân xã Ân Nghĩa",
        UnitGroup::Commune,
        Some("000.00.32.H23"),
        &[
            ("dinh-van-phuc", "Đinh Văn Phúc"),
            ("bui-thi-nguyet", "Bùi Thị Nguyệt"),
        ],
    ),
    (
        "000.01.33.H23",
        "Ủy ban nhân dân xã Đồng Tâm",
        UnitGroup::Commune,
        Some("000.00.33.H23"),
        &[("trinh-van-luc", "Trịnh Văn Lực")],
    ),
    (
        "000.01.34.H23",
        "Ủy ban nhân dân xã Tân Vinh",
        UnitGroup::Commune,
        Some("000.00.34.H23"),
        &[("bui-van-tinh", "Bùi Văn Tỉnh")],
    ),
];

/// The demo Hòa Bình province: the provincial People's Committee office, six departments,
/// four districts and the city of Hòa Bình, and four communes, each with one or two leaders.
pub fn demo_province() -> UnitRegistry {
    let units = DEMO_UNITS
        .iter()
        .map(|&(code, name, group, parent, leaders)| Unit {
            code: UnitCode::trusted(code),
            name: name.to_owned(),
            level: group.level(),
            group,
            parent: parent.map(UnitCode::trusted),
            leaders: leaders
                .iter()
                .map(|&(id, full_name)| Leader {
                    id: LeaderId::trusted(id),
                    full_name: full_name.to_owned(),
                })
                .collect(),
        })
        .collect();
    // The table's codes, ids and invariants are proven by the tests below.
    UnitRegistry::from_trusted(units)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::UnitLevel;

    #[test]
    fn demo_province_satisfies_every_registry_invariant() {
        let demo = demo_province();
        for unit in demo.units() {
            assert_eq!(
                UnitCode::parse(unit.code.as_str()).expect("parse"),
                unit.code
            );
            for leader in &unit.leaders {
                assert_eq!(
                    LeaderId::parse(leader.id.as_str()).expect("parse"),
                    leader.id
                );
            }
        }
        let checked = UnitRegistry::new(demo.units().to_vec()).expect("registry is consistent");
        assert_eq!(checked, demo);
    }

    #[test]
    fn demo_province_is_the_same_on_every_call() {
        assert_eq!(demo_province(), demo_province());
        let codes: Vec<_> = demo_province()
            .units()
            .iter()
            .map(|unit| unit.code.to_string())
            .collect();
        assert_eq!(codes.first().map(String::as_str), Some("000.00.00.H23"));
        assert_eq!(codes.len(), 16);
    }

    #[test]
    fn demo_province_has_every_group_and_one_or_two_leaders_per_unit() {
        let demo = demo_province();
        let count = |group| demo.units().iter().filter(|u| u.group == group).count();
        assert_eq!(count(UnitGroup::ProvinceOffice), 1);
        assert_eq!(count(UnitGroup::Department), 6);
        assert_eq!(count(UnitGroup::District), 5);
        assert_eq!(count(UnitGroup::Commune), 4);
        assert!(
            demo.units()
                .iter()
                .all(|u| (1..=2).contains(&u.leaders.len()))
        );
    }

    #[test]
    fn tan_vinh_commune_sits_under_luong_son_district() {
        let demo = demo_province();
        let tan_vinh = demo
            .units()
            .iter()
            .find(|unit| unit.name == "Ủy ban nhân dân xã Tân Vinh")
            .expect("unit present");
        let parent = demo
            .find(tan_vinh.parent.as_ref().expect("has a parent"))
            .expect("unit present");
        assert_eq!(parent.name, "Ủy ban nhân dân huyện Lương Sơn");
        assert_eq!(parent.level, UnitLevel::District);
    }

    #[test]
    fn demo_names_are_precomposed_vietnamese() {
        let demo = demo_province();
        let office = demo
            .find(&UnitCode::parse("000.00.00.H23").expect("parse"))
            .expect("unit present");
        // U+1EE6 (Ủ) and U+00F2 (ò) as single code points: the NFC form.
        assert!(
            office
                .name
                .contains("\u{1EE6}y ban nhân dân tỉnh H\u{00F2}a Bình")
        );
        let an = office
            .leader(&LeaderId::parse("nguyen-van-an").expect("parse"))
            .expect("leader");
        assert_eq!(an.full_name, "Nguy\u{1EC5}n V\u{0103}n An");
    }

    #[test]
    fn leader_ids_are_the_full_names_without_diacritics() {
        for unit in demo_province().units() {
            for leader in &unit.leaders {
                assert_eq!(slug(&leader.full_name), leader.id.as_str());
            }
        }
    }

    /// Lower-case ASCII slug of a Vietnamese name, for the test above.
    fn slug(name: &str) -> String {
        const GROUPS: &[(&str, char)] = &[
            ("aàáảãạăằắẳẵặâầấẩẫậ", 'a'),
            ("eèéẻẽẹêềếểễệ", 'e'),
            ("iìíỉĩị", 'i'),
            ("oòóỏõọôồốổỗộơờớởỡợ", 'o'),
            ("uùúủũụưừứửữự", 'u'),
            ("yỳýỷỹỵ", 'y'),
            ("đ", 'd'),
        ];
        name.to_lowercase()
            .chars()
            .map(|c| {
                if c == ' ' {
                    return '-';
                }
                GROUPS
                    .iter()
                    .find(|(letters, _)| letters.contains(c))
                    .map_or(c, |&(_, base)| base)
            })
            .collect()
    }
}
