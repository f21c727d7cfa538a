/**
 * Word lists for the synthetic LA: pupil names, place names for schools, and the DfE ethnicity
 * codes with rough shares of the school population (DfE "Schools, pupils and their
 * characteristics" 2024/25: White British ~60%; shares below are rounded and illustrative).
 * Every name is drawn from these lists; no real person's record is used.
 */

export const BOYS = [
  'Oliver', 'George', 'Harry', 'Noah', 'Jack', 'Leo', 'Arthur', 'Muhammad', 'Oscar', 'Charlie',
  'Jacob', 'Thomas', 'Henry', 'William', 'Alfie', 'Theo', 'Joshua', 'Freddie', 'Archie', 'Isaac',
  'James', 'Lucas', 'Ethan', 'Adam', 'Mason', 'Finley', 'Max', 'Logan', 'Samuel', 'Daniel',
  'Joseph', 'Teddy', 'Reuben', 'Rory', 'Elijah', 'Harrison', 'Dylan', 'Louis', 'Ibrahim', 'Yusuf',
  'Aarav', 'Kai', 'Ryan', 'Tyler', 'Kacper', 'Jayden', 'Ollie', 'Zain', 'Luca', 'Caleb',
];

export const GIRLS = [
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Ivy', 'Freya', 'Lily', 'Florence', 'Mia', 'Willow',
  'Rosie', 'Sophia', 'Isabella', 'Grace', 'Daisy', 'Sienna', 'Poppy', 'Elsie', 'Emily', 'Ella',
  'Evelyn', 'Phoebe', 'Sofia', 'Evie', 'Charlotte', 'Harper', 'Millie', 'Matilda', 'Maya', 'Sophie',
  'Alice', 'Emilia', 'Isabelle', 'Ruby', 'Luna', 'Maisie', 'Aria', 'Penelope', 'Mila', 'Bonnie',
  'Hannah', 'Zara', 'Aisha', 'Amira', 'Zuzanna', 'Chloe', 'Jessica', 'Layla', 'Nia', 'Erin',
];

export const SURNAMES = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Patel', 'Robinson',
  'Wright', 'Thompson', 'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Thomas', 'Clarke',
  'Jackson', 'Wood', 'Harris', 'Edwards', 'Turner', 'Martin', 'Cooper', 'Hill', 'Ward', 'Hughes',
  'Moore', 'Clark', 'King', 'Harrison', 'Lewis', 'Baker', 'Lee', 'Allen', 'Morris', 'Khan',
  'Scott', 'Watson', 'Davis', 'Parker', 'James', 'Bennett', 'Young', 'Phillips', 'Richardson', 'Mitchell',
  'Bailey', 'Carter', 'Cook', 'Singh', 'Shaw', 'Bell', 'Collins', 'Morgan', 'Kelly', 'Begum',
  'Miller', 'Cox', 'Hussain', 'Marshall', 'Simpson', 'Price', 'Anderson', 'Adams', 'Wilkinson', 'Ali',
  'Ahmed', 'Foster', 'Ellis', 'Murphy', 'Chapman', 'Mason', 'Gray', 'Richards', 'Webb', 'Griffiths',
  'Hunt', 'Palmer', 'Campbell', 'Holmes', 'Mills', 'Rogers', 'Barnes', 'Knight', 'Matthews', 'Barker',
  'Nowak', 'Kowalski', 'Okafor', 'Mensah', 'Osei', 'Nguyen', 'Chen', 'Rahman', 'Akhtar', 'Mahmood',
];

export const PLACE_STEMS = [
  'Ash', 'Beech', 'Birch', 'Bramble', 'Brook', 'Burn', 'Chalk', 'Clay', 'Cold', 'Copper',
  'Deer', 'Elm', 'Fern', 'Flax', 'Fox', 'Glen', 'Hazel', 'Heath', 'Holly', 'Kings',
  'Lark', 'Lime', 'Mill', 'Moor', 'Oak', 'Pond', 'Queens', 'Rook', 'Rush', 'Sand',
  'Stone', 'Thorn', 'Well', 'West', 'Willow', 'Wren', 'North', 'East', 'South', 'Red',
];

export const PLACE_ENDINGS = [
  'field', 'ford', 'ley', 'ton', 'bury', 'gate', 'ham', 'wood', 'side', 'dale',
  'bridge', 'hurst', 'combe', 'wick', 'stead', 'thorpe', 'moor', 'brook', 'well', 'croft',
];

export const SAINTS = ['Anne', 'Mary', 'Peter', 'Paul', 'John', 'Michael', 'Joseph', 'Andrew', 'Luke', 'Margaret', 'Chad', 'Hilda', 'Bede', 'Aidan', 'Cuthbert'];

/** Religious festivals a family may observe: which code group and the festival dates used. */
export type Observance = 'none' | 'muslim' | 'hindu' | 'sikh' | 'jewish';

export interface EthnicGroup {
  code: string;
  share: number;
  /** Chance a family of this group observes each festival set. */
  observance: Partial<Record<Observance, number>>;
}

export const ETHNICITIES: readonly EthnicGroup[] = [
  { code: 'WBRI', share: 0.595, observance: { jewish: 0.003 } },
  { code: 'WOTH', share: 0.06, observance: { jewish: 0.02 } },
  { code: 'WIRI', share: 0.003, observance: {} },
  { code: 'WROM', share: 0.003, observance: {} },
  { code: 'WIRT', share: 0.001, observance: {} },
  { code: 'MWBC', share: 0.016, observance: {} },
  { code: 'MWBA', share: 0.009, observance: { muslim: 0.2 } },
  { code: 'MWAS', share: 0.015, observance: { muslim: 0.2 } },
  { code: 'MOTH', share: 0.02, observance: { muslim: 0.1 } },
  { code: 'AIND', share: 0.037, observance: { hindu: 0.5, sikh: 0.25, muslim: 0.1 } },
  { code: 'APKN', share: 0.05, observance: { muslim: 0.9 } },
  { code: 'ABAN', share: 0.02, observance: { muslim: 0.9 } },
  { code: 'AOTH', share: 0.021, observance: { muslim: 0.3, hindu: 0.2 } },
  { code: 'BCRB', share: 0.011, observance: {} },
  { code: 'BAFR', share: 0.045, observance: { muslim: 0.3 } },
  { code: 'BOTH', share: 0.006, observance: {} },
  { code: 'CHNE', share: 0.007, observance: {} },
  { code: 'OOTH', share: 0.023, observance: { muslim: 0.4 } },
  { code: 'REFU', share: 0.01, observance: {} },
  { code: 'NOBT', share: 0.008, observance: {} },
];

/**
 * Festival dates (approximate: the day most UK schools see absence) for the years the bank-holiday
 * snapshot covers; a festival on a school day brings `R` for observing families.
 */
export const FESTIVALS: Readonly<Record<Exclude<Observance, 'none'>, readonly string[]>> = {
  muslim: [
    '2023-04-21', '2023-06-28', '2024-04-10', '2024-06-17', '2025-03-31', '2025-06-06',
    '2026-03-20', '2026-05-27', '2027-03-10', '2027-05-17', '2028-02-27', '2028-05-05',
  ],
  hindu: ['2023-11-13', '2024-11-01', '2025-10-21', '2026-11-09', '2027-10-29', '2028-10-17'],
  // Guru Nanak Gurpurab.
  sikh: ['2023-11-27', '2024-11-15', '2025-11-05', '2026-11-24', '2027-11-14', '2028-11-02'],
  jewish: ['2023-09-25', '2024-10-12', '2025-10-02', '2026-09-21', '2027-10-11', '2028-09-30'],
};
